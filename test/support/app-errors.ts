/**
 * An app's own error handler, as an app on each framework would write one for
 * `errors: 'next'`: it renders tokengate's errors from `status`, `headers` and `toJSON()`,
 * passes anything else on, and records what it received so tests can look at it.
 */
import type http from 'node:http';
import { isOAuthError } from '../../src';
import type { Framework } from './spine';

/** The header the app's handler adds, so a test can tell its answer from the library's. */
export const RENDERED_BY_APP = 'x-rendered-by-app';

export interface AppErrorHandler {
  /** Mount it last: `app.use(handler)`. */
  handler: (err: unknown, req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => void;
  /** Every error the handler was given, in order. */
  received: unknown[];
}

type ExpressResponse = http.ServerResponse & {
  status(code: number): ExpressResponse;
  set(headers: Record<string, string>): ExpressResponse;
  json(body: unknown): void;
};

/** Express apps use `res.status().set().json()`; Connect apps plain Node calls. */
export function appErrorHandler(framework: Framework): AppErrorHandler {
  const received: unknown[] = [];
  const handler: AppErrorHandler['handler'] = (err, _req, res, next) => {
    received.push(err);
    if (!isOAuthError(err)) return next(err);
    res.setHeader(RENDERED_BY_APP, '1');
    if (framework !== 'connect') {
      (res as ExpressResponse).status(err.status).set(err.headers).json(err.toJSON());
      return;
    }
    res.statusCode = err.status;
    for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(err.toJSON()));
  };
  return { handler, received };
}
