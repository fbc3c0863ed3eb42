/**
 * Boundary checks for optimizers and schedulers, with messages that give the valid range and the
 * received value: "Expected number >= 0 for lr but received -1 of type number".
 */
export function invalidParameter(name: string, expected: string, actual: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

export function invalidType(name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  if (value === null || value === undefined) return String(value);
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as Float32Array).length}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return `${String(value)} of type ${typeof value}`;
}

export interface Bounds {
  min?: number;
  max?: number;
  /** Excludes the bound itself: `minExclusive: 0` means "> 0". */
  minExclusive?: number;
  maxExclusive?: number;
}

export function checkNumber(name: string, value: unknown, bounds: Bounds = {}): number {
  if (typeof value !== 'number' || Number.isNaN(value) || !inBounds(value, bounds)) {
    throw invalidParameter(name, rangeText('number', bounds), value);
  }
  return value;
}

export function checkInteger(name: string, value: unknown, bounds: Bounds = {}): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || !inBounds(value, bounds)) {
    throw invalidParameter(name, rangeText('integer', bounds), value);
  }
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidType(name, 'boolean', value);
  return value;
}

export function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T)) {
    throw invalidParameter(name, `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, value);
  }
  return value as T;
}

function inBounds(v: number, b: Bounds): boolean {
  return (b.min === undefined || v >= b.min) && (b.max === undefined || v <= b.max)
    && (b.minExclusive === undefined || v > b.minExclusive) && (b.maxExclusive === undefined || v < b.maxExclusive);
}

function rangeText(kind: string, b: Bounds): string {
  const lo = b.min !== undefined ? `>= ${b.min}` : b.minExclusive !== undefined ? `> ${b.minExclusive}` : '';
  const hi = b.max !== undefined ? `<= ${b.max}` : b.maxExclusive !== undefined ? `< ${b.maxExclusive}` : '';
  if (lo && hi) return `${kind} ${lo} and ${hi}`;
  if (lo || hi) return `${kind} ${lo || hi}`;
  return kind;
}

/** torch's state-dict keys are snake_case; graft's properties are camelCase. */
export const toSnake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const toCamel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
