/**
 * Outbound HTTP GETs to URLs a client or a document chose (client ID metadata documents,
 * a client's `jwks_uri`): SSRF-safe by default. https only; no private, loopback,
 * link-local or otherwise special address, checked on the address actually connected to
 * (the resolver's answer is filtered inside the connection's own lookup, and the socket's
 * peer is checked again on connect, so DNS rebinding between a check and the connect cannot
 * slip through); bounded time and size; redirects are not followed.
 * @packageDocumentation
 */
import dns from 'node:dns';
import https from 'node:https';
import net from 'node:net';
import { checkSecondsAsMs, configError } from '../core/config';

/** The answer of an {@link OutboundFetch}: status, lower-cased headers, and the body as text. */
export interface OutboundResponse {
  status: number;
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
}

/** A WHATWG `fetch` (or one with the same shape), for tests and for apps with their own egress. */
export type FetchFunction = (
  url: string,
  init: { method: 'GET'; headers: Record<string, string>; redirect: 'manual'; signal: AbortSignal },
) => Promise<{
  status: number;
  headers: { forEach(cb: (value: string, name: string) => void): void };
  body: unknown;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Options of the SSRF-safe outbound fetch (`createOutboundFetch`): client ID metadata documents, a client's `jwks_uri`. */
export interface OutboundFetchOptions {
  /** Whole-request deadline in seconds, fractions allowed (connect, TLS, headers and body). Default 5. */
  timeout?: number;
  /** Largest body accepted, in bytes. Default 65 536. */
  maxBytes?: number;
  /**
   * Allow-list hook: asked for every URL before anything is sent; `false` refuses it. E.g.
   * only the hosts of known partners: `allow: (url) => url.hostname.endsWith('.partner.example')`.
   */
  allow?: (url: URL) => boolean;
  /**
   * Addresses that would be refused as private or special but are wanted (an internal
   * service): return `true` to permit that resolved address.
   */
  allowAddress?: (address: string) => boolean;
  /** Extra trusted CA certificates (PEM), e.g. a private PKI. Default: Node's bundle. */
  ca?: string | Buffer | (string | Buffer)[];
  /**
   * Use this `fetch` instead of the built-in client (tests, or an app's egress proxy). The
   * https-only rule, the allow hook, the deadline, the size limit and the no-redirect rule
   * still apply; the address checks are then that function's business.
   */
  fetch?: FetchFunction;
}

/** Why an outbound fetch was refused or failed; the message is safe to log, never shown to a client. */
export class OutboundFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundFetchError';
  }
}

/** A bounded, SSRF-safe GET. Rejects with {@link OutboundFetchError}. */
export type OutboundFetch = (url: string, headers?: Record<string, string>) => Promise<OutboundResponse>;

const BLOCKED = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 128], // unspecified (IPv4-mapped ::ffff:a.b.c.d are checked against the IPv4 list by BlockList)
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48], // local NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, ...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED.addSubnet(prefix, bits, 'ipv6');
}

/** Whether an IP address is private, loopback, link-local or otherwise not a public unicast address. */
export function isSpecialAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for the connection itself: resolves, drops refused addresses, fails when none is left. */
function safeLookup(permitted: (address: string) => boolean) {
  return function lookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const usable = addresses.filter((a) => permitted(a.address));
      if (usable.length === 0) {
        const refused = Object.assign(
          new Error(`${hostname} resolves only to private, loopback or otherwise special addresses`),
          { code: 'EADDRREFUSED' },
        );
        return callback(refused, []);
      }
      if (options.all) return callback(null, usable);
      const first = usable[0] as dns.LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    configError('ERR_TOKENGATE_NUMBER', `outbound fetch: ${name} must be a positive number (got ${String(value)}).`);
  return value;
}

/**
 * Build the fetch every outbound request of a server goes through. Options are checked here,
 * once.
 *
 * @example
 * ```ts
 * const get = createOutboundFetch({ timeout: 3, maxBytes: 32 * 1024 });
 * const { status, headers, body } = await get('https://client.example.com/metadata.json', { accept: 'application/json' });
 * ```
 */
export function createOutboundFetch(options: OutboundFetchOptions = {}): OutboundFetch {
  const timeoutMs = checkSecondsAsMs('outbound fetch: timeout', options.timeout, 5);
  const maxBytes = positive('maxBytes', options.maxBytes, 64 * 1024);
  const { allow, allowAddress, fetch: custom, ca } = options;
  if (allow !== undefined && typeof allow !== 'function')
    configError('ERR_TOKENGATE_TYPE', 'outbound fetch: allow must be a function (url: URL) => boolean.');
  if (allowAddress !== undefined && typeof allowAddress !== 'function')
    configError('ERR_TOKENGATE_TYPE', 'outbound fetch: allowAddress must be a function (address: string) => boolean.');
  if (custom !== undefined && typeof custom !== 'function')
    configError('ERR_TOKENGATE_TYPE', 'outbound fetch: fetch must be a function with the shape of the WHATWG fetch.');
  const permitted = (address: string): boolean => !isSpecialAddress(address) || allowAddress?.(address) === true;

  return async function outboundFetch(target, headers = {}) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new OutboundFetchError('not an absolute URL');
    }
    if (url.protocol !== 'https:') throw new OutboundFetchError('only https URLs are fetched');
    if (url.username || url.password) throw new OutboundFetchError('URLs with credentials are not fetched');
    if (allow !== undefined && allow(url) !== true)
      throw new OutboundFetchError(`${url.host} is not on the allow-list`);
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(literal) !== 0 && !permitted(literal))
      throw new OutboundFetchError(`${literal} is a private, loopback or otherwise special address`);
    return custom !== undefined
      ? viaFetch(custom, url.href, headers, timeoutMs, maxBytes)
      : viaHttps(url, headers, timeoutMs, maxBytes, permitted, ca);
  };
}

function checkStatus(status: number): void {
  if (status >= 300 && status < 400) throw new OutboundFetchError(`redirect (${status}) not followed`);
}

function viaHttps(
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
  maxBytes: number,
  permitted: (a: string) => boolean,
  ca: OutboundFetchOptions['ca'],
): Promise<OutboundResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: OutboundResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err instanceof OutboundFetchError ? err : new OutboundFetchError(`request failed: ${err.message}`));
      } else resolve(value as OutboundResponse);
    };
    const req = https.request(url, {
      method: 'GET',
      headers: { 'user-agent': 'tokengate', ...headers },
      lookup: safeLookup(permitted) as unknown as typeof dns.lookup,
      agent: false,
      ...(ca !== undefined && { ca }),
    });
    const timer = setTimeout(
      () => finish(new OutboundFetchError(`no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
    req.on('socket', (socket) => {
      // The peer actually connected to, whatever resolved it: the last word on where we are.
      socket.once('connect', () => {
        const peer = socket.remoteAddress;
        if (peer === undefined || !permitted(peer))
          finish(new OutboundFetchError(`${String(peer)} is a private, loopback or otherwise special address`));
      });
    });
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      try {
        checkStatus(res.statusCode ?? 0);
      } catch (err) {
        res.resume();
        return finish(err as Error);
      }
      if (Number(res.headers['content-length']) > maxBytes) {
        res.resume();
        return finish(new OutboundFetchError(`body larger than ${maxBytes} bytes`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return finish(new OutboundFetchError(`body larger than ${maxBytes} bytes`));
        chunks.push(chunk);
      });
      res.on('error', (err) => finish(err));
      res.on('end', () => {
        const out: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(res.headers))
          out[name] = Array.isArray(value) ? value.join(', ') : value;
        finish(undefined, { status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end();
  });
}

async function viaFetch(
  fetchFn: FetchFunction,
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  maxBytes: number,
): Promise<OutboundResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  timer.unref();
  try {
    const res = await fetchFn(url, { method: 'GET', headers, redirect: 'manual', signal: controller.signal });
    checkStatus(res.status);
    const out: Record<string, string | undefined> = {};
    res.headers.forEach((value, name) => (out[name.toLowerCase()] = value));
    if (Number(out['content-length']) > maxBytes) throw new OutboundFetchError(`body larger than ${maxBytes} bytes`);
    const body = res.body as AsyncIterable<Uint8Array> | null;
    const chunks: Buffer[] = [];
    let size = 0;
    if (body && typeof body[Symbol.asyncIterator] === 'function') {
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > maxBytes) {
          controller.abort();
          throw new OutboundFetchError(`body larger than ${maxBytes} bytes`);
        }
        chunks.push(Buffer.from(chunk));
      }
    } else {
      const buffer = Buffer.from(await res.arrayBuffer());
      if (buffer.length > maxBytes) throw new OutboundFetchError(`body larger than ${maxBytes} bytes`);
      chunks.push(buffer);
    }
    return { status: res.status, headers: out, body: Buffer.concat(chunks).toString('utf8') };
  } catch (err) {
    if (err instanceof OutboundFetchError) throw err;
    throw new OutboundFetchError(
      controller.signal.aborted
        ? `no complete answer within ${timeoutMs} ms`
        : `request failed: ${(err as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
}
