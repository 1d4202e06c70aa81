/**
 * Finding the bearer token in a request (RFC 6750 §2): the Authorization header, and only
 * when enabled, the form body or the query string. A token in more than one of them is
 * `invalid_request`, whichever the route accepts.
 * @packageDocumentation
 */
import { InvalidRequest } from '../core/errors';
import type { Request } from '../core/http';
import { peekBody, readParams } from '../http/body';

/** Where `requireToken` may look for the token besides the Authorization header. */
export interface ExtractOptions {
  /** Accept `access_token` in a form-encoded body (RFC 6750 §2.2). Default false. */
  allowBody: boolean;
  /** Accept `access_token` in the query string (RFC 6750 §2.3; leaks into logs). Default false. */
  allowQuery: boolean;
  /** Body size limit when the body has to be read here. */
  maxBodyBytes: number;
  /** Body read deadline in milliseconds. Default: `readParams`'s (10 s). */
  bodyTimeoutMs?: number;
}

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="  (RFC 6750 §2.1)
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 8192;

function malformed(): InvalidRequest {
  return new InvalidRequest('The bearer token is malformed.');
}

/** The token of an `Authorization: Bearer` header; `undefined` for no header or another scheme. */
export function bearerFromHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  // Case-insensitive scheme; another scheme (e.g. Basic) is simply not a bearer token.
  if (header.length < 7 || header.charCodeAt(6) !== 32 || header.slice(0, 6).toLowerCase() !== 'bearer')
    return undefined;
  const token = header.slice(7).trim();
  if (token === '' || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) throw malformed();
  return token;
}

function fromQuery(url: string | undefined): string | undefined {
  const q = url?.indexOf('?') ?? -1;
  if (q === -1) return undefined;
  const values = new URLSearchParams((url as string).slice(q + 1)).getAll('access_token');
  if (values.length > 1) throw new InvalidRequest('The access_token parameter is included more than once.');
  return values[0];
}

function isFormBody(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  // RFC 6750 §2.2: only a single-part form body, and never for GET.
  return type === 'application/x-www-form-urlencoded' && req.method !== 'GET' && req.method !== 'HEAD';
}

/**
 * Whether this request may carry a token somewhere besides the Authorization header: the
 * query names `access_token`, or it has a form body. Cheap, so a header-only guard can keep its
 * synchronous path for every other request.
 */
export function mayCarryOtherToken(req: Request): boolean {
  return (req.url !== undefined && req.url.includes('access_token')) || isFormBody(req);
}

async function fromBody(
  req: Request,
  maxBodyBytes: number,
  bodyTimeoutMs: number | undefined,
): Promise<string | undefined> {
  if (!isFormBody(req)) return undefined;
  const params = await readParams(req, maxBodyBytes, bodyTimeoutMs);
  // Leave the parsed body for the route, as a body parser would have.
  if (req.body === undefined) {
    req.body = { ...params };
    req._body = true;
  }
  return params.access_token;
}

/**
 * The `access_token` of a form body, looked at without taking the body from the route: the
 * app's own parsed body if a parser already ran, else the raw bytes, read and put back. A body
 * of unknown length or larger than `maxBodyBytes` is not inspected.
 */
async function peekBodyToken(
  req: Request,
  maxBodyBytes: number,
  bodyTimeoutMs: number | undefined,
): Promise<string | undefined> {
  if (!isFormBody(req)) return undefined;
  if (req._body === true || req.readableEnded) {
    const body = req.body as Record<string, unknown> | null | undefined;
    return body !== null && typeof body === 'object' && Object.prototype.hasOwnProperty.call(body, 'access_token')
      ? String(body.access_token)
      : undefined;
  }
  const raw = await peekBody(req, maxBodyBytes, bodyTimeoutMs);
  return raw === undefined ? undefined : (new URLSearchParams(raw.toString('utf8')).get('access_token') ?? undefined);
}

/**
 * The bearer token of this request, `undefined` if none; throws on a malformed or doubled one.
 *
 * RFC 6750 §2: a client MUST NOT send the token in more than one way, so a token in the header
 * together with an `access_token` in the query or the form body is `invalid_request`, even when
 * the route accepts only the header (the second token would be ignored here but might not be
 * by the code behind the route). A query or body token that the route does not accept, alone,
 * is simply not looked at: the request has no token.
 */
export async function extractToken(req: Request, options: ExtractOptions): Promise<string | undefined> {
  const header = bearerFromHeader(req.headers.authorization);
  const query = fromQuery(req.url);
  let body: string | undefined;
  if (options.allowBody) body = await fromBody(req, options.maxBodyBytes, options.bodyTimeoutMs);
  else if (header !== undefined || query !== undefined)
    body = await peekBodyToken(req, options.maxBodyBytes, options.bodyTimeoutMs);
  const places = (header !== undefined ? 1 : 0) + (query !== undefined ? 1 : 0) + (body !== undefined ? 1 : 0);
  if (places > 1) throw new InvalidRequest('Send the access token one way only (RFC 6750 §2).');
  const token = header ?? (options.allowQuery ? query : undefined) ?? (options.allowBody ? body : undefined);
  if (
    token !== undefined &&
    header === undefined &&
    (token === '' || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token))
  )
    throw malformed();
  return token;
}
