/**
 * The one place responses are written: JSON with the no-store headers RFC 6749 §5.1 asks of
 * every token response, and every error rendered from its {@link OAuthError} value, or handed
 * to the app's error handler (`errors: 'next'`) in the same public form.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { configError } from '../core/config';
import { OAuthError, ServerError } from '../core/errors';
import type { Next } from '../core/http';
import type { Logger } from '../core/logging';

/** Write `body` as JSON with `Cache-Control: no-store` and `Pragma: no-cache`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const payload = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  if (headers) for (const name in headers) res.setHeader(name, headers[name] as string);
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.end(payload);
}

/**
 * `err` as a client may see it. An {@link OAuthError} is public by construction (its message
 * is written for the client's developer); a 5xx one has its cause logged. Anything else is
 * logged with its cause and replaced by a generic `server_error`, so no internal message leaks.
 */
export function publicError(err: unknown, logger: Logger, context: string): OAuthError {
  if (err instanceof OAuthError) {
    if (err.status >= 500) logger.error(`${context}: ${err.error}`, err.cause ?? undefined);
    return err;
  }
  logger.error(`${context}: unexpected failure; answered server_error`, err);
  return new ServerError();
}

/** Render any thrown value as the RFC's JSON error (see {@link publicError}). */
export function sendError(res: ServerResponse, err: unknown, logger: Logger, context: string): void {
  const error = publicError(err, logger, context);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, error.toJSON(), error.headers);
}

/** What happens to an error: the library writes the response, or hands it to the app's `next(err)`. */
export type ErrorMode = 'respond' | 'next';

/** Check an `errors` option, once, at start-up. */
export function checkErrorMode(at: string, value: unknown, fallback: ErrorMode): ErrorMode {
  if (value === undefined) return fallback;
  if (value !== 'respond' && value !== 'next')
    configError('ERR_TOKENGATE_CHOICE', `${at} must be "respond" or "next" (got ${JSON.stringify(value)}).`);
  return value;
}

/** The same error (class, code, message) with another status and headers. */
export function restated(error: OAuthError, status: number, headers: Record<string, string>): OAuthError {
  const copy = Object.create(
    Object.getPrototypeOf(error) as object,
    Object.getOwnPropertyDescriptors(error),
  ) as OAuthError;
  Object.defineProperties(copy, {
    status: { value: status, enumerable: true },
    headers: { value: headers, enumerable: true },
  });
  return copy;
}

/**
 * The error as the app's handler receives it: the same class, status and message, every
 * header the response would have carried (`Cache-Control: no-store` included), and no
 * `cause`: an internal failure stays in the log, never in what the app may render.
 */
export function handedOver(error: OAuthError): OAuthError {
  const copy = restated(
    error,
    error.status,
    Object.freeze({ 'Cache-Control': 'no-store', Pragma: 'no-cache', ...error.headers }),
  ) as OAuthError & { cause?: unknown };
  delete copy.cause;
  return copy;
}

/**
 * Answers one request's error: `(res, next, err, context)`. Built once per server or guard
 * from its `errors` option, so the request path never looks at the option.
 */
export type ErrorOut = (res: ServerResponse, next: Next, err: unknown, context: string) => void;

/** The {@link ErrorOut} of an `errors` mode. */
export function errorOut(mode: ErrorMode, logger: Logger): ErrorOut {
  if (mode === 'respond') return (res, _next, err, context) => sendError(res, err, logger, context);
  return (res, next, err, context) => {
    const error = publicError(err, logger, context);
    // Too late for another answer: the app's handler could only fail to write it.
    if (res.headersSent) return void res.destroy();
    next(handedOver(error));
  };
}
