/**
 * A request the web app's server cannot answer, with its status; every route answers these as
 * `ApiError` (`{ error, statusCode }`), anything else that escapes a handler as a 500.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly status: number, message: string, readonly body: Record<string, unknown> = {}) {
    super(message);
  }
}

/** 400: a malformed request, or an id or name that is refused before any file is touched. */
export const badRequest = (message: string, body?: Record<string, unknown>) => new HttpError(400, message, body);
/** 403: no valid token. */
export const forbidden = (message: string) => new HttpError(403, message);
/** 404: no such class, image, run or file. */
export const notFound = (message: string) => new HttpError(404, message);
/** 409: the name is taken, or a run is already going. */
export const conflict = (message: string) => new HttpError(409, message);
/** 413: a file or image over a limit. */
export const tooLarge = (message: string) => new HttpError(413, message);

/** A name as error messages quote it: JSON-quoted and cut short, so a hostile one cannot flood a log. */
export const quoted = (name: unknown) => JSON.stringify(String(name)).slice(0, 120);
