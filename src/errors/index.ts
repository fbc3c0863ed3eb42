/** Validation and error messages for every layer: one message factory, one describe(), the boundary checks. */
export { describe, received, Received } from './describe.ts';
export { expectedMessage, invalidParameter, invalidType } from './message.ts';
export { checkBoolean, checkChoice, checkInteger, checkNumber, checkRange, checkString, choiceText, rangeText, type Bounds } from './checks.ts';
