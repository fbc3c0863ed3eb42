import { invalidParameter, invalidType } from './message.ts';

/**
 * Checks at the boundary, each returning the checked value: a wrong kind throws a TypeError, a
 * value of the right kind outside its range a RangeError, both with the one message factory.
 */

export interface Bounds {
  min?: number;
  max?: number;
  /** Excludes the bound itself: `minExclusive: 0` means "> 0". */
  minExclusive?: number;
  maxExclusive?: number;
  /** Accept Infinity and -Infinity where the bounds allow them (a norm of order Infinity); NaN never passes. */
  infinite?: boolean;
}

export function checkNumber(name: string, value: unknown, bounds: Bounds = {}): number {
  if (typeof value !== 'number') throw invalidType(name, rangeText('number', bounds), value);
  if (Number.isNaN(value) || (!bounds.infinite && !Number.isFinite(value)) || !inBounds(value, bounds)) {
    throw invalidParameter(name, rangeText('number', bounds), value);
  }
  return value;
}

export function checkInteger(name: string, value: unknown, bounds: Bounds = {}): number {
  if (typeof value !== 'number') throw invalidType(name, rangeText('integer', bounds), value);
  if (!Number.isInteger(value) || !inBounds(value, bounds)) throw invalidParameter(name, rangeText('integer', bounds), value);
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidType(name, 'boolean', value);
  return value;
}

export function checkString(name: string, value: unknown, expected = 'a string'): string {
  if (typeof value !== 'string') throw invalidType(name, expected, value);
  return value;
}

/** One of a fixed set of strings: "Expected one of "min", "max" for mode but received "minimum"". */
export function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T)) {
    throw typeof value === 'string' ? invalidParameter(name, choiceText(choices), value) : invalidType(name, choiceText(choices), value);
  }
  return value as T;
}

/** A [lo, hi] pair with lo <= hi, each within the bounds. */
export function checkRange(name: string, value: unknown, bounds: Bounds = {}): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) throw invalidType(name, 'an array of two numbers', value);
  const lo = checkNumber(`${name}[0]`, value[0], bounds);
  const hi = checkNumber(`${name}[1]`, value[1], bounds);
  if (lo > hi) throw invalidParameter(name, `${name}[0] <= ${name}[1]`, value);
  return [lo, hi];
}

function inBounds(v: number, b: Bounds): boolean {
  return (b.min === undefined || v >= b.min) && (b.max === undefined || v <= b.max)
    && (b.minExclusive === undefined || v > b.minExclusive) && (b.maxExclusive === undefined || v < b.maxExclusive);
}

/** 'one of "min", "max"' */
export function choiceText(choices: readonly string[]): string {
  return `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
}

/** "integer between 0 and 10000" when both ends are included, else "number > 0 and <= 1", ">= 1", or the kind alone. */
export function rangeText(kind: string, b: Bounds): string {
  if (b.min !== undefined && b.max !== undefined) return `${kind} between ${b.min} and ${b.max}`;
  const lo = b.min !== undefined ? `>= ${b.min}` : b.minExclusive !== undefined ? `> ${b.minExclusive}` : '';
  const hi = b.max !== undefined ? `<= ${b.max}` : b.maxExclusive !== undefined ? `< ${b.maxExclusive}` : '';
  if (lo && hi) return `${kind} ${lo} and ${hi}`;
  if (lo || hi) return `${kind} ${lo || hi}`;
  return kind;
}
