/**
 * Errors of the weights readers and writers. Every message names the file and says what was
 * expected, so a user with a broken or hostile file knows which one and why.
 */
export class WeightsFileError extends Error {
  override name = 'WeightsFileError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** A pickle that names a callable outside the allow-list: refused before anything is built. */
export class UnsafePickleError extends WeightsFileError {
  override name = 'UnsafePickleError';
  constructor(
    file: string,
    readonly global: string,
  ) {
    super(
      file,
      `Refusing to load "${file}": it references ${global}, which a checkpoint never needs ` +
        '(graft does not execute code from files)',
    );
  }
}

/** The one message factory: `Cannot read "<file>": <problem>`. */
export function cannotRead(file: string, problem: string): WeightsFileError {
  return new WeightsFileError(file, `Cannot read "${file}": ${problem}`);
}

/** `what` needs `need` bytes at `offset`, but only `size` bytes exist. */
export function truncated(file: string, what: string, need: number | bigint, offset: number, size: number): WeightsFileError {
  return cannotRead(
    file,
    `truncated or corrupt: ${what} needs ${need} bytes at offset ${offset} but the data ends at ${size}`,
  );
}

/** A size, index or offset read from a file: a non-negative integer that a number holds exactly. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
