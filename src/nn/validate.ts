/** Checks for constructor arguments, with messages that give the valid range and what was received. */
export function expectInt(name: string, v: number, min = -Infinity, max = Infinity): number {
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    throw new RangeError(`Expected integer ${range} for ${name} but received ${String(v)} of type ${typeof v}`);
  }
  return v;
}

export function expectNumber(name: string, v: number, min = -Infinity, max = Infinity): number {
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max)) {
    throw new RangeError(`Expected number between ${min} and ${max} for ${name} but received ${String(v)} of type ${typeof v}`);
  }
  return v;
}
