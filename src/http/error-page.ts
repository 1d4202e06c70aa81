/**
 * The one HTML page the library renders: the authorization endpoint's error page, shown when
 * the request cannot safely be sent back to the client (unknown client, bad redirect URI), so
 * the server never becomes an open redirector (RFC 6749 §4.1.2.1, RFC 9700 §4.11). The app
 * may brand it (`authorize.errorPage`) or render it in its error handler (`errors: 'next'`).
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { OAuthError, ServerError } from '../core/errors';
import type { Next, Request } from '../core/http';
import type { Logger } from '../core/logging';
import type { ErrorMode } from './respond';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `value` with every character that means something in HTML escaped. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

// The page's one style sheet, allowed by its hash (CSP Level 2 §4.2.4): no 'unsafe-inline',
// and no nonce to generate per response, since the text never changes.
const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1f2328}' +
  'h1{font-size:1.4rem}code{background:#f0f0f0;padding:0 .25em}small{color:#57606a}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** The default page's CSP: nothing may load or run but its own style sheet. */
export const ERROR_PAGE_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;

/**
 * Headers every error page gets, the app's own included: not cached (the URL holds the
 * request), not frameable, no Referer to wherever the user goes next. No CSP: the app's page
 * brings its own (and a helmet-style policy set earlier is left as it is).
 */
function pageHeaders(res: ServerResponse, headers: Record<string, string> | undefined): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (headers) for (const name in headers) res.setHeader(name, headers[name] as string);
}

/**
 * Answer with a minimal, self-contained HTML error page: no scripts, no external resources,
 * not frameable, not cached. Everything echoed is escaped.
 */
export function sendErrorPage(
  res: ServerResponse,
  status: number,
  error: string,
  description: string,
  headers?: Record<string, string>,
): void {
  const body =
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
    `<meta name="robots" content="noindex"><title>Authorization error</title><style>${STYLE}</style></head>\n<body>` +
    '<h1>This sign-in request cannot continue</h1>\n' +
    `<p>${escapeHtml(description)}</p>\n` +
    `<p><small>Error: <code>${escapeHtml(error)}</code>. Go back to the application and try again, or tell its developer.</small></p>\n` +
    '</body></html>\n';
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Security-Policy', ERROR_PAGE_CSP);
  pageHeaders(res, headers);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * The app's error page: it receives the error and the framework's `req` and `res`, and
 * responds by the time its promise settles; returning without responding shows the default page.
 */
export type ErrorPageHook = (err: OAuthError, req: Request, res: ServerResponse) => unknown;

/** Answers one request's page error: `(req, res, next, err)`. */
export type PageOut = (req: Request, res: ServerResponse, next: Next, err: unknown) => Promise<void>;

const responded = (res: ServerResponse): boolean => res.headersSent || res.writableEnded;

/**
 * How an endpoint whose errors are pages answers them: through the app's `hook` when given,
 * else to `next(err)` with `errors: 'next'`, else with {@link sendErrorPage}. Chosen once.
 * Whatever the hook does, the library itself only ever writes this page: it never redirects.
 */
export function pageOut(hook: ErrorPageHook | undefined, mode: ErrorMode, logger: Logger, context: string): PageOut {
  // Below 500 the error is ours and public; anything else is logged and shown as server_error.
  function publicPageError(err: unknown): OAuthError {
    if (err instanceof OAuthError && err.status < 500) return err;
    logger.error(`${context}: unexpected failure; answered server_error`, err);
    return new ServerError();
  }
  // What the app sees: a plain OAuthError with the response's headers and without any cause.
  const handed = (e: OAuthError): OAuthError =>
    new OAuthError(e.error, e.message, e.status, { 'Cache-Control': 'no-store', Pragma: 'no-cache', ...e.headers });
  const fallback = (res: ServerResponse, e: OAuthError): void =>
    sendErrorPage(res, e.status, e.error, e.message, e.headers);

  if (hook !== undefined) {
    return async (req, res, _next, err) => {
      if (responded(res)) return void res.destroy();
      const error = publicPageError(err);
      pageHeaders(res, error.headers);
      res.statusCode = error.status;
      try {
        await hook(handed(error), req, res);
      } catch (hookErr) {
        logger.error(`${context}: authorize.errorPage failed; the default page was shown`, hookErr);
        if (responded(res)) return void (res.writableEnded || res.destroy());
      }
      if (!responded(res)) fallback(res, error);
    };
  }
  if (mode === 'next') {
    return async (_req, res, next, err) => {
      if (responded(res)) return void res.destroy();
      const error = publicPageError(err);
      pageHeaders(res, error.headers);
      next(handed(error));
    };
  }
  return async (_req, res, _next, err) => {
    if (responded(res)) return void res.destroy();
    fallback(res, publicPageError(err));
  };
}
