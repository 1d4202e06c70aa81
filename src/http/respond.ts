/**
 * The one place responses are written: JSON with the no-store headers RFC 6749 §5.1 asks of
 * every token response, and every error rendered from its {@link OAuthError} value.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { OAuthError, ServerError } from '../core/errors';
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
 * Render any thrown value. An {@link OAuthError} goes out as it is; anything else is logged
 * (with its cause) and answered with a generic `server_error`, so no internal message leaks.
 */
export function sendError(res: ServerResponse, err: unknown, logger: Logger, context: string): void {
  let error: OAuthError;
  if (err instanceof OAuthError) {
    error = err;
    if (error.status >= 500) logger.error(`${context}: ${error.error}`, err.cause ?? undefined);
  } else {
    logger.error(`${context}: unexpected failure; answered server_error`, err);
    error = new ServerError();
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, error.toJSON(), error.headers);
}
