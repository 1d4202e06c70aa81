/**
 * The SSRF-safe outbound fetch (src/http/outbound-fetch.ts): https only, no internal address
 * (after DNS resolution, on the address actually connected to), no redirects, bounded size
 * and time, the allow-list hooks, and a supplied `fetch` under the same limits.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createOutboundFetch, isSpecialAddress, OutboundFetchError } from '../../src/http/outbound-fetch';
import { certificate } from '../support/tls';

const tls = certificate();
let server: https.Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { Location: 'https://127.0.0.1/elsewhere' }).end();
    } else if (req.url === '/big') {
      res.end('x'.repeat(10_000));
    } else if (req.url === '/slow') {
      res.write('{');
      // never finishes
    } else {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Cache-Control', 'max-age=60');
      res.end('{"ok":true}');
    }
  });
  server.on('secureConnection', () => connections++);
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function refused(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutboundFetchError);
  expect((err as Error).message).toMatch(message);
}

describe('SSRF: internal addresses are refused', () => {
  // Generous: DNS resolution shares libuv's thread pool with whatever else the machine runs.
  const get = createOutboundFetch({ timeout: 15 });

  test.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[fe80::1]',
    '[fd00::1]',
  ])('an IP literal %s is refused before any connection', async (host) => {
    const before = connections;
    await refused(get(`https://${host}:${port}/doc`), /private, loopback or otherwise special/);
    expect(connections).toBe(before);
  });

  test('a host name that resolves to a loopback address (localhost) is refused after DNS resolution, never connected to', async () => {
    const before = connections;
    await refused(get(`https://localhost:${port}/doc`), /resolves only to private|special/);
    expect(connections).toBe(before);
  });

  test('http, URLs with credentials and non-URLs are refused', async () => {
    await refused(get('http://example.com/doc'), /only https/);
    await refused(get('https://user:pw@example.com/doc'), /credentials/);
    await refused(get('not a url'), /absolute URL/);
  });

  test('isSpecialAddress knows public from special addresses', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(isSpecialAddress(a)).toBe(false);
    for (const a of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', '::ffff:10.0.0.1', 'fe80::1', 'garbage'])
      expect(isSpecialAddress(a)).toBe(true);
  });
});

describe('limits on the built-in client (an internal test server allowed through allowAddress)', () => {
  const get = createOutboundFetch({
    timeout: 15,
    maxBytes: 1024,
    allowAddress: (a) => a === '127.0.0.1',
    ca: tls.cert,
  });

  test('an allowed address is fetched: status, lower-cased headers and body', async () => {
    const res = await get(`https://127.0.0.1:${port}/doc`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('max-age=60');
    expect(JSON.parse(res.body)).toEqual({ ok: true });
  });

  test('a host name is checked on the resolved address: localhost is fetched only because 127.0.0.1 is allowed', async () => {
    const res = await get(`https://localhost:${port}/doc`);
    expect(res.status).toBe(200);
  });

  test('redirects are not followed', async () => {
    await refused(get(`https://127.0.0.1:${port}/redirect`), /redirect \(302\) not followed/);
  });

  test('a body over maxBytes is refused', async () => {
    await refused(get(`https://127.0.0.1:${port}/big`), /larger than 1024 bytes/);
  });

  test('an answer that does not complete in time is refused', async () => {
    const impatient = createOutboundFetch({ timeout: 1, allowAddress: (a) => a === '127.0.0.1', ca: tls.cert });
    await refused(impatient(`https://127.0.0.1:${port}/slow`), /within 1000 ms/);
  });

  test('the allow hook can refuse a URL before anything is sent', async () => {
    const only = createOutboundFetch({
      allow: (url) => url.hostname === 'partner.example',
      allowAddress: () => true,
      ca: tls.cert,
    });
    const before = connections;
    await refused(only(`https://127.0.0.1:${port}/doc`), /not on the allow-list/);
    expect(connections).toBe(before);
  });
});

describe('a supplied fetch gets the same rules', () => {
  let plain: http.Server;
  let base: string;
  beforeAll(async () => {
    plain = http.createServer((req, res) => {
      if (req.url === '/redirect') res.writeHead(301, { Location: '/x' }).end();
      else if (req.url === '/big') res.end('y'.repeat(5000));
      else res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    plain.closeAllConnections();
    await new Promise((resolve) => plain.close(resolve));
  });
  // Stands in for an app's egress proxy: https://docs.test/... is served by the local server.
  const get = createOutboundFetch({
    maxBytes: 1024,
    fetch: (url, init) => fetch(url.replace('https://docs.test', base), init),
  });

  test('the document is fetched through it', async () => {
    expect((await get('https://docs.test/doc')).body).toBe('{"ok":true}');
  });
  test('its redirects are not followed, its oversized bodies refused, and http is refused before it is called', async () => {
    await refused(get('https://docs.test/redirect'), /redirect \(301\)/);
    await refused(get('https://docs.test/big'), /larger than 1024/);
    await refused(get('http://docs.test/doc'), /only https/);
    await refused(get('https://127.0.0.1/doc'), /special/);
  });
});
