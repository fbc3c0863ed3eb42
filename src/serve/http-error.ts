/**
 * A request that cannot be answered, with the status the protocol documents for it. Every route
 * answers these as `{"error": message}`; anything else that escapes a handler is a 500.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly status: number, message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

/** 400: the request is malformed or does not fit the model. */
export const badRequest = (message: string) => new HttpError(400, message);
/** 404: no such model (or version) is served here. */
export const notFound = (message: string) => new HttpError(404, message);
/** 413: the body or an image in it is over a limit. */
export const tooLarge = (message: string) => new HttpError(413, message);
/** 503: the model's queue is full or the request waited too long in it; try again shortly. */
export const overloaded = (message: string, retryAfterSeconds = 1) => new HttpError(503, message, retryAfterSeconds);
