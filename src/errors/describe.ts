/**
 * A short description of any value for an error message, safe for values decoded from hostile
 * files or passed by mistake: long strings are cut, buffers are named by type and length and
 * never printed, arrays show a few items and nest a few levels (so a cyclic one ends), objects are
 * named by their class, and nothing the value defines (getters, toString, proxies) can throw
 * through or flood the message.
 */
export function describe(value: unknown): string {
  try {
    return clip(describeAt(value, 0), MAX_DESCRIPTION);
  } catch {
    // A revoked proxy or a throwing trap: say no more than what it is.
    return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  }
}

/**
 * Text that stands for the received value as it is, when the value itself says less than a
 * phrase would: `received('shape [3]')`, `received('2 rows')`.
 */
export class Received {
  constructor(readonly text: string) {}
}

export const received = (text: string): Received => new Received(text);

const MAX_STRING = 60;
const MAX_ITEMS = 8;
const MAX_DEPTH = 2;
const MAX_DESCRIPTION = 300;
/** Bigger integers are described by their size: printing a hostile one in decimal costs quadratic time. */
const MAX_BIGINT_BITS = 256;

function describeAt(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string': return quote(value);
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint': {
      const bits = (value < 0n ? -value : value).toString(2).length;
      return bits > MAX_BIGINT_BITS ? `an integer of ${bits} bits` : String(value);
    }
    case 'boolean':
    case 'undefined': return String(value);
    case 'symbol': return `Symbol(${value.description === undefined ? '' : clip(value.description, MAX_STRING)})`;
    case 'function': return value.name ? `a function (${clip(value.name, MAX_STRING)})` : 'a function';
  }
  if (value === null) return 'null';
  if (value instanceof Received) return value.text;
  if (Array.isArray(value)) return describeArray(value, depth);
  if (ArrayBuffer.isView(value)) {
    const type = className(value);
    return 'length' in value ? `${article(type)} ${type} of length ${(value as Uint8Array).length}` : `${article(type)} ${type} of ${value.byteLength} bytes`;
  }
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return `${article(className(value))} ${className(value)} of ${value.byteLength} bytes`;
  return `an object (${className(value as object)})`;
}

function describeArray(items: unknown[], depth: number): string {
  if (depth >= MAX_DEPTH) return `an array of ${items.length}`;
  const shown = items.slice(0, MAX_ITEMS).map((item) => describeAt(item, depth + 1));
  const more = items.length - shown.length;
  return `[${shown.join(', ')}${more > 0 ? `, ... ${more} more` : ''}]`;
}

/** The class name from the prototype, not from the value's own (possibly decoded) `constructor` field. */
function className(value: object): string {
  const name: unknown = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === 'string' && name !== '' ? clip(name, MAX_STRING) : 'Object';
}

function quote(text: string): string {
  if (text.length <= MAX_STRING) return JSON.stringify(text);
  // Cut before a surrogate pair rather than through it.
  const end = isHighSurrogate(text.charCodeAt(MAX_STRING - 1)) ? MAX_STRING - 1 : MAX_STRING;
  return `${JSON.stringify(text.slice(0, end) + '...')} (${text.length} characters)`;
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}...`;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const article = (word: string) => (/^[AEIOaeio]/.test(word) ? 'an' : 'a');
