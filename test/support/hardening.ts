/**
 * Fixtures for the hardening tests (brute-force limits, slow clients, timing, CORS, fuzzing,
 * error hygiene): a second user, raw HTTP helpers over a keep-alive agent, and assertions
 * on the OAuth error shape.
 */
import http from 'node:http';
import { memoryStores, type MemoryUserInput, type Stores } from '../../src';
import { CLIENTS, USERS } from './spine';

/** The spine's alice plus bob, so one user's failures can be checked against another's. */
export const TWO_USERS: MemoryUserInput[] = [
  ...USERS,
  { id: 'user-bob', username: 'bob@example.com', password: 'builder-bob-7' },
];

/** Memory stores with the spine's clients and both users. */
export function twoUserStores(): Stores {
  return memoryStores({ clients: CLIENTS, users: TWO_USERS });
}

/** Limits high enough never to trigger: for suites that send many failing requests on purpose. */
export const NO_LIMITS_HIT = { username: { points: 1e9 }, clientId: { points: 1e9 }, address: { points: 1e9 } };

/** A response as read off the wire. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): Record<string, unknown>;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Send one request to a listening server and read the whole answer. */
export function send(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // An explicit length: Node's client would send a GET/DELETE/OPTIONS body without any framing.
    const headers =
      options.body === undefined
        ? options.headers
        : { 'Content-Length': String(Buffer.byteLength(options.body)), ...options.headers };
    // A large maxHeaderSize: an app's login redirect may carry a long resume URL (see the fuzz suite).
    const req = http.request(
      `${url}${path}`,
      { method: options.method ?? 'POST', headers, agent, maxHeaderSize: 1 << 20 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A form-encoded POST body and its headers. */
export function form(
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  };
}

/** The RFC 6749 §5.2 error shape: JSON `error` + `error_description`, `no-store`. */
export function expectOAuthError(
  res: { status: number; headers: http.IncomingHttpHeaders; text: string },
  status: number,
  error: string,
): void {
  expect({ status: res.status, error: (JSON.parse(res.text) as { error?: unknown }).error }).toEqual({ status, error });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(typeof (JSON.parse(res.text) as { error_description?: unknown }).error_description).toBe('string');
}

/** A 429 from the brute-force limits: JSON `temporarily_unavailable`, `Retry-After` in whole seconds within `maxSeconds`. */
export function expectTooMany(
  res: { status: number; headers: http.IncomingHttpHeaders; text: string },
  maxSeconds = 900,
): void {
  expectOAuthError(res, 429, 'temporarily_unavailable');
  const retryAfter = res.headers['retry-after'];
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(maxSeconds);
}

/** Close the keep-alive sockets of {@link send} (call in `afterAll`). */
export function closeAgent(): void {
  agent.destroy();
}
