import { describe, Received } from './describe.ts';

/**
 * The one message factory, as sharp's: "Expected integer between 0 and 10000 for top but received
 * -1 of type number". `expected` says what is valid (the kind and the range), `name` which option
 * or value it is, and `actual` is described safely, with its type where the text alone hides it.
 */
export function expectedMessage(name: string, expected: string, actual: unknown): string {
  return `Expected ${expected} for ${name} but received ${describeReceived(actual)}`;
}

/** A value of the right kind outside its valid range or set. */
export function invalidParameter(name: string, expected: string, actual: unknown): RangeError {
  return new RangeError(expectedMessage(name, expected, actual));
}

/** A value of the wrong kind. */
export function invalidType(name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(expectedMessage(name, expected, actual));
}

/** `-1` alone could be a number or a string; strings are quoted and objects are named, so they need no type. */
function describeReceived(actual: unknown): string {
  const text = describe(actual);
  if (actual instanceof Received) return text;
  const type = typeof actual;
  return type === 'number' || type === 'bigint' || type === 'boolean' || type === 'symbol' ? `${text} of type ${type}` : text;
}
