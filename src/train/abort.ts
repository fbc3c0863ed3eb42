/**
 * A job stopped by its AbortSignal. Named 'AbortError', as fetch and Node's own APIs name theirs,
 * so callers can test `e.name === 'AbortError'` whichever API stopped; the signal's reason is the
 * cause.
 */
export class AbortError extends Error {
  override name = 'AbortError';
}

/** Throws an AbortError saying what was stopped, if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortError(`${what} was stopped by its AbortSignal`, { cause: signal.reason });
}
