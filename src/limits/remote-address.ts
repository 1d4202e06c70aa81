/**
 * Which address a request comes from, for the per-address brute-force limit. Behind a proxy
 * every request arrives from the proxy, so this is where `trust proxy` matters.
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

/**
 * Returns the client's address for a request, or `undefined` when it is unknown.
 *
 * @example Connect behind one reverse proxy on the same host, with proxy-addr
 * ```ts
 * import proxyaddr from 'proxy-addr';
 * const trust = proxyaddr.compile('loopback');
 * oauthServer(stores, { issuer, bruteForce: { remoteAddress: (req) => proxyaddr(req, trust) } });
 * ```
 */
export type RemoteAddressFn = (req: IncomingMessage) => string | undefined;

/**
 * The default: Express's `req.ip`, which follows the app's `trust proxy` setting (without it,
 * the socket's peer; with it, the first untrusted hop of `X-Forwarded-For`); elsewhere (Connect,
 * plain Node) the socket's peer address. `X-Forwarded-For` is never read directly: any client
 * can send it.
 */
export const defaultRemoteAddress: RemoteAddressFn = (req) => {
  const ip = (req as { ip?: unknown }).ip;
  return typeof ip === 'string' && ip !== '' ? ip : req.socket?.remoteAddress;
};

/** The 16-bit groups of an IPv6 address (zone removed, embedded IPv4 split into two groups). */
function ipv6Groups(address: string): number[] {
  const bare = address.split('%', 1)[0] as string;
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const piece of part.split(':')) {
      if (isIPv4(piece)) {
        const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
        groups.push((a << 8) | b, (c << 8) | d);
      } else {
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const gap = bare.indexOf('::');
  if (gap === -1) return toGroups(bare);
  const head = toGroups(bare.slice(0, gap));
  const tail = toGroups(bare.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * The limiter key for an address. IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as its IPv4
 * address; any other IPv6 address counts as its /64 network, because one subscriber usually
 * holds a whole /64 and could otherwise walk through 2^64 addresses.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  if (isIPv4(address)) return address;
  if (isIPv6(address)) {
    const groups = ipv6Groups(address);
    if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
      return `${(groups[6] as number) >> 8}.${(groups[6] as number) & 255}.${(groups[7] as number) >> 8}.${(groups[7] as number) & 255}`;
    }
    return `${groups
      .slice(0, 4)
      .map((g) => g.toString(16))
      .join(':')}::/64`;
  }
  // A custom remoteAddress may return anything; keep the key short.
  return address.length > 100 ? address.slice(0, 100) : address;
}
