/**
 * The one HTML page the library renders: the authorization endpoint's error page, shown when
 * the request cannot safely be sent back to the client (unknown client, bad redirect URI), so
 * the server never becomes an open redirector (RFC 6749 §4.1.2.1, RFC 9700 §4.11).
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `value` with every character that means something in HTML escaped. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
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
    '<meta name="robots" content="noindex"><title>Authorization error</title></head>\n<body>' +
    '<h1>This sign-in request cannot continue</h1>\n' +
    `<p>${escapeHtml(description)}</p>\n` +
    `<p><small>Error: <code>${escapeHtml(error)}</code>. Go back to the application and try again, or tell its developer.</small></p>\n` +
    '</body></html>\n';
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (headers) for (const name in headers) res.setHeader(name, headers[name] as string);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
