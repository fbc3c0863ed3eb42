/**
 * One message factory for every boundary check in the data layer, so messages read alike:
 * "Expected number between 0 and 1 for scale[0] but received 1.5".
 */
export function invalidParameter(name: string, expected: string, actual: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

export function invalidType(name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === 'number' ? String(v) : describe(v))).join(', ')}]`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return `${String(value)} of type ${typeof value}`;
}

export function checkNumber(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidParameter(name, rangeText('number', min, max), value);
  }
  return value;
}

export function checkInteger(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(name, rangeText('integer', min, max), value);
  }
  return value;
}

/** A [lo, hi] pair with lo <= hi, each checked against [min, max]. */
export function checkRange(name: string, value: unknown, min = -Infinity, max = Infinity): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw invalidParameter(name, 'an array of two numbers', value);
  }
  const lo = checkNumber(`${name}[0]`, value[0], min, max);
  const hi = checkNumber(`${name}[1]`, value[1], min, max);
  if (lo > hi) throw invalidParameter(name, `${name}[0] <= ${name}[1]`, value);
  return [lo, hi];
}

function rangeText(kind: string, min: number, max: number): string {
  if (min === -Infinity && max === Infinity) return kind;
  if (max === Infinity) return `${kind} >= ${min}`;
  if (min === -Infinity) return `${kind} <= ${max}`;
  return `${kind} between ${min} and ${max}`;
}
