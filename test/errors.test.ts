// The one message factory and the boundary checks: exact messages, and describe() of values a
// hostile file or a wrong call can hand it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkBoolean, checkChoice, checkInteger, checkNumber, checkRange, checkString, describe, expectedMessage,
  invalidParameter, invalidType, rangeText, received,
} from '../src/errors/index.ts';

test('the factory words every message as sharp does, with the type where the text hides it', () => {
  assert.equal(expectedMessage('top', 'integer between 0 and 10000', -1), 'Expected integer between 0 and 10000 for top but received -1 of type number');
  assert.equal(expectedMessage('mode', 'one of "min", "max"', 'minimum'), 'Expected one of "min", "max" for mode but received "minimum"');
  assert.equal(expectedMessage('seed', 'integer', 5n), 'Expected integer for seed but received 5 of type bigint');
  assert.equal(expectedMessage('amsgrad', 'boolean', 1), 'Expected boolean for amsgrad but received 1 of type number');
  assert.equal(expectedMessage('shuffle', 'boolean', 'yes'), 'Expected boolean for shuffle but received "yes"');
  assert.equal(expectedMessage('target', 'class indices of shape [2]', received('shape [3]')), 'Expected class indices of shape [2] for target but received shape [3]');
  const range = invalidParameter('lr', 'number >= 0', -1);
  assert.ok(range instanceof RangeError);
  assert.equal(range.message, 'Expected number >= 0 for lr but received -1 of type number');
  const type = invalidType('optimizer', 'an Optimizer', {});
  assert.ok(type instanceof TypeError);
  assert.equal(type.message, 'Expected an Optimizer for optimizer but received an object (Object)');
});

test('ranges read "between" when both ends are included, else as comparisons', () => {
  assert.equal(rangeText('integer', { min: 0, max: 10000 }), 'integer between 0 and 10000');
  assert.equal(rangeText('number', { minExclusive: 0, max: 1 }), 'number > 0 and <= 1');
  assert.equal(rangeText('number', { min: 0, maxExclusive: 1 }), 'number >= 0 and < 1');
  assert.equal(rangeText('integer', { min: 1 }), 'integer >= 1');
  assert.equal(rangeText('number', { maxExclusive: 5 }), 'number < 5');
  assert.equal(rangeText('number', {}), 'number');
});

test('checkNumber: a wrong kind is a TypeError, a bad value a RangeError, NaN and Infinity only where allowed', () => {
  assert.equal(checkNumber('p', 0.5, { min: 0, max: 1 }), 0.5);
  assert.throws(() => checkNumber('p', 1.5, { min: 0, max: 1 }), { name: 'RangeError', message: 'Expected number between 0 and 1 for p but received 1.5 of type number' });
  assert.throws(() => checkNumber('p', '0.5', { min: 0, max: 1 }), { name: 'TypeError', message: 'Expected number between 0 and 1 for p but received "0.5"' });
  assert.throws(() => checkNumber('lr', undefined, { min: 0 }), { name: 'TypeError', message: 'Expected number >= 0 for lr but received undefined' });
  assert.throws(() => checkNumber('lr', NaN), { name: 'RangeError', message: 'Expected number for lr but received NaN of type number' });
  assert.throws(() => checkNumber('lr', Infinity, { min: 0 }), { name: 'RangeError', message: 'Expected number >= 0 for lr but received Infinity of type number' });
  assert.equal(checkNumber('normType', Infinity, { minExclusive: 0, infinite: true }), Infinity);
  assert.throws(() => checkNumber('normType', NaN, { infinite: true }), /received NaN of type number/);
  assert.throws(() => checkNumber('normType', -Infinity, { minExclusive: 0, infinite: true }), { message: 'Expected number > 0 for normType but received -Infinity of type number' });
});

test('checkInteger, checkBoolean, checkString, checkChoice, checkRange', () => {
  assert.equal(checkInteger('batchSize', 32, { min: 1 }), 32);
  assert.throws(() => checkInteger('batchSize', 0, { min: 1 }), { name: 'RangeError', message: 'Expected integer >= 1 for batchSize but received 0 of type number' });
  assert.throws(() => checkInteger('tMax', 2.5, { min: 1 }), { name: 'RangeError', message: 'Expected integer >= 1 for tMax but received 2.5 of type number' });
  assert.throws(() => checkInteger('seed', 1n), { name: 'TypeError', message: 'Expected integer for seed but received 1 of type bigint' });
  assert.throws(() => checkBoolean('nesterov', 'true'), { name: 'TypeError', message: 'Expected boolean for nesterov but received "true"' });
  assert.equal(checkBoolean('nesterov', false), false);
  assert.throws(() => checkString('title', 3), { name: 'TypeError', message: 'Expected a string for title but received 3 of type number' });
  assert.throws(() => checkString('root', null, 'a folder path'), { message: 'Expected a folder path for root but received null' });
  assert.equal(checkChoice('mode', 'max', ['min', 'max'] as const), 'max');
  assert.throws(() => checkChoice('mode', 'minimum', ['min', 'max']), { name: 'RangeError', message: 'Expected one of "min", "max" for mode but received "minimum"' });
  assert.throws(() => checkChoice('mode', 0, ['min', 'max']), { name: 'TypeError', message: 'Expected one of "min", "max" for mode but received 0 of type number' });
  assert.deepEqual(checkRange('scale', [0.1, 0.9], { min: 0, max: 1 }), [0.1, 0.9]);
  assert.throws(() => checkRange('scale', [0.9, 0.1]), { name: 'RangeError', message: 'Expected scale[0] <= scale[1] for scale but received [0.9, 0.1]' });
  assert.throws(() => checkRange('scale', [0.1, 1.5], { min: 0, max: 1 }), { message: 'Expected number between 0 and 1 for scale[1] but received 1.5 of type number' });
  assert.throws(() => checkRange('scale', 0.5), { name: 'TypeError', message: 'Expected an array of two numbers for scale but received 0.5 of type number' });
});

test('describe: primitives as they read in code', () => {
  assert.equal(describe(-1), '-1');
  assert.equal(describe(-0), '-0');
  assert.equal(describe(NaN), 'NaN');
  assert.equal(describe(1.5e-8), '1.5e-8');
  assert.equal(describe(true), 'true');
  assert.equal(describe(null), 'null');
  assert.equal(describe(undefined), 'undefined');
  assert.equal(describe(12345678901234567890n), '12345678901234567890');
  assert.equal(describe('a\nb"c'), '"a\\nb\\"c"');
  assert.equal(describe(Symbol('lr')), 'Symbol(lr)');
  assert.equal(describe(Symbol()), 'Symbol()');
  assert.equal(describe(function step() {}), 'a function (step)');
  assert.equal(expectedMessage('key', 'a string', Symbol('k')), 'Expected a string for key but received Symbol(k) of type symbol');
});

test('describe: long strings are cut and measured, a surrogate pair is not split', () => {
  const huge = 'x'.repeat(10 * 1024 * 1024);
  assert.equal(describe(huge), `"${'x'.repeat(60)}..." (10485760 characters)`);
  const emoji = 'a'.repeat(59) + '\u{1F600}' + 'b'.repeat(10);
  assert.equal(describe(emoji), `"${'a'.repeat(59)}..." (71 characters)`);
  assert.ok(describe(Symbol('s'.repeat(1000))).length < 80);
});

test('describe: buffers are named by type and length, never printed', () => {
  assert.equal(describe(new Uint8Array(10 * 1024 * 1024)), 'a Uint8Array of length 10485760');
  assert.equal(describe(new Float32Array(3)), 'a Float32Array of length 3');
  assert.equal(describe(new Int8Array(2)), 'an Int8Array of length 2');
  assert.equal(describe(Buffer.from('secret')), 'a Buffer of length 6');
  assert.equal(describe(new ArrayBuffer(16)), 'an ArrayBuffer of 16 bytes');
  assert.equal(describe(new DataView(new ArrayBuffer(4))), 'a DataView of 4 bytes');
  assert.equal(describe([new Uint8Array(5)]), '[a Uint8Array of length 5]');
});

test('describe: arrays show a few items and a few levels, so cyclic ones end', () => {
  assert.equal(describe([1, 'a', null]), '[1, "a", null]');
  assert.equal(describe(Array.from({ length: 1000 }, (_, i) => i)), '[0, 1, 2, 3, 4, 5, 6, 7, ... 992 more]');
  assert.equal(describe([[1, [2, [3]]]]), '[[1, an array of 2]]');
  const cyclic: unknown[] = [1];
  cyclic.push(cyclic);
  assert.equal(describe(cyclic), '[1, [1, an array of 2]]');
  assert.ok(describe(Array(1000).fill('y'.repeat(1000))).length <= 303);
});

test('describe: objects by their class, not by what they claim; proxies and getters cannot throw through', () => {
  class Optimizer {}
  assert.equal(describe(new Optimizer()), 'an object (Optimizer)');
  assert.equal(describe({}), 'an object (Object)');
  assert.equal(describe(Object.create(null)), 'an object (Object)');
  assert.equal(describe(new Map()), 'an object (Map)');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(describe(cyclic), 'an object (Object)');
  // A decoded JSON object may carry its own "constructor" field.
  assert.equal(describe(JSON.parse(`{"constructor": {"name": "${'z'.repeat(100000)}"}}`)), 'an object (Object)');
  const trap = new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } });
  assert.equal(describe(trap), 'an object');
  const { proxy, revoke } = Proxy.revocable([], {});
  revoke();
  assert.equal(describe(proxy), 'an object');
  const loud = [1];
  Object.defineProperty(loud, 0, { get() { throw new Error('getter'); } });
  assert.equal(describe(loud), 'an object');
});
