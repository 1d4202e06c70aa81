/**
 * Fetching a client's `jwks_uri` without letting the client aim the server at itself or its
 * network (SSRF): https only, every resolved address must be public (checked on the address
 * actually connected to, so DNS rebinding cannot slip a private one in), no redirects, and the
 * time and size of the answer bounded.
 * @packageDocumentation
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { JwksFetcher } from './client-keys';

// Addresses a client must never make the server call: loopback, private, link-local (cloud
// metadata at 169.254.169.254), CGNAT, multicast, reserved, and their IPv6 counterparts.
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 127],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** Whether `address` (IPv4 or IPv6) is one the server may connect to on a client's behalf. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it carries. (A BlockList
  // rule for ::ffff:0:0/96 would match every IPv4 address.)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1] as string);
  if (family === 6 && /^::ffff:/i.test(address)) return false;
  return !BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Limits of {@link safeJwksFetcher}. */
export interface SafeFetchOptions {
  /** Whole-request deadline in ms. Default 5000. */
  timeoutMs?: number;
  /** Largest accepted body in bytes. Default 65 536. */
  maxBytes?: number;
}

/** The default {@link JwksFetcher}: SSRF-safe, bounded, JSON only. */
export function safeJwksFetcher(options: SafeFetchOptions = {}): JwksFetcher {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 65_536;
  return (uri) =>
    new Promise((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(uri);
      } catch {
        return reject(new Error('jwks_uri is not an absolute URL'));
      }
      if (url.protocol !== 'https:') return reject(new Error('jwks_uri must use https'));
      if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0 && !isPublicAddress(url.hostname.replace(/^\[|\]$/g, ''))) {
        return reject(new Error('jwks_uri points at a non-public address'));
      }
      const req = request(
        url,
        {
          method: 'GET',
          headers: { Accept: 'application/json, application/jwk-set+json' },
          timeout: timeoutMs,
          // Checked at connect time, on the very addresses the socket will use.
          lookup: (hostname, opts, callback) => {
            dnsLookup(hostname, { ...opts, all: true }, (err, addresses) => {
              if (err) return callback(err, '', 0);
              const list = addresses as LookupAddress[];
              const bad = list.find((a) => !isPublicAddress(a.address));
              if (bad !== undefined || list.length === 0)
                return callback(new Error('jwks_uri resolves to a non-public address'), '', 0);
              if ((opts as { all?: boolean }).all)
                return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
              callback(null, (list[0] as LookupAddress).address, (list[0] as LookupAddress).family);
            });
          },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`jwks_uri answered ${res.statusCode ?? 'no status'} (redirects are not followed)`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              req.destroy(new Error(`jwks_uri answered more than ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch {
              reject(new Error('jwks_uri did not answer JSON'));
            }
          });
          res.on('error', reject);
        },
      );
      const deadline = setTimeout(
        () => req.destroy(new Error(`jwks_uri did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      req.on('close', () => clearTimeout(deadline));
      req.on('timeout', () => req.destroy(new Error(`jwks_uri did not answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
}
