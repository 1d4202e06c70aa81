/**
 * Slow clients (issue 8): a request that trickles its body or never finishes it is answered
 * 408 once `bodyTimeout` has passed and its connection is closed, so it holds no socket, no
 * buffer and no timer after that; the server keeps answering everyone else meanwhile.
 */
import http from 'node:http';
import net from 'node:net';
import { memoryStores, oauthServer } from '../../src';
import { closeAgent, form, send } from '../support/hardening';
import { basic, buildApp, CLIENTS, FRAMEWORKS, ISSUER, listen, recordingLogger, USERS } from '../support/spine';

const TOKEN = '/oauth/token';
const TIMEOUT_S = 0.4;

afterAll(closeAgent);

interface RawExchange {
  /** Everything the server sent. */
  response: Promise<string>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<number>;
  socket: net.Socket;
}

/** Open a raw connection and send `head`; the caller decides how (and whether) the body follows. */
function openRaw(url: string, head: string): RawExchange {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  const started = Date.now();
  let data = '';
  socket.on('data', (chunk) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
  const response = new Promise<string>((resolve) => {
    socket.on('data', () => data.includes('\r\n\r\n') && resolve(data));
    socket.on('close', () => resolve(data));
  });
  socket.write(head);
  return { response, closed, socket };
}

function head(path: string, headers: Record<string, string>): string {
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
}

async function bodyOf(exchange: RawExchange): Promise<string> {
  await exchange.closed;
  const raw = await exchange.response;
  return raw.slice(raw.indexOf('\r\n\r\n') + 4);
}

const FORM_BODY = 'grant_type=client_credentials&client_id=web-app&client_secret=web-secret';

describe.each(FRAMEWORKS)('slow clients under %s', (framework) => {
  let server: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    server = await listen(buildApp(framework, { bodyTimeout: TIMEOUT_S }).app);
  });
  afterAll(() => server.close());

  test('a body that never finishes gets 408 invalid_request and the connection is closed', async () => {
    const x = openRaw(
      server.url,
      head(TOKEN, { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '500' }) + 'grant_type=cli',
    );
    const closedAfter = await x.closed;
    const raw = await x.response;
    expect(statusOf(raw)).toBe(408);
    expect(raw).toMatch(/\r\ncontent-type: application\/json/i);
    expect(raw).toMatch(/\r\ncache-control: no-store/i);
    expect(raw).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(await bodyOf(x))).toEqual({
      error: 'invalid_request',
      error_description: 'The request body did not arrive in time.',
    });
    expect(closedAfter).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 50);
    expect(closedAfter).toBeLessThan(TIMEOUT_S * 1000 + 3000);
  });

  test('a body trickled one byte at a time is cut off at the deadline, not kept alive by each byte', async () => {
    const x = openRaw(
      server.url,
      head(TOKEN, { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(FORM_BODY.length) }),
    );
    let i = 0;
    const trickle = setInterval(() => {
      if (i < FORM_BODY.length && !x.socket.destroyed) x.socket.write(FORM_BODY[i++] as string);
    }, 50);
    try {
      const closedAfter = await x.closed;
      expect(statusOf(await x.response)).toBe(408);
      expect(i).toBeLessThan(FORM_BODY.length);
      expect(closedAfter).toBeLessThan(TIMEOUT_S * 1000 + 3000);
    } finally {
      clearInterval(trickle);
    }
  });

  test('a chunked body without its last chunk, and a stalled multipart body, get 408 too', async () => {
    const chunked = openRaw(
      server.url,
      head(TOKEN, { 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked' }) +
        '5\r\ngrant\r\n',
    );
    const multipart = openRaw(
      server.url,
      head(TOKEN, { 'Content-Type': 'multipart/form-data; boundary=XYZ', 'Content-Length': '400' }) +
        '--XYZ\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_cre',
    );
    await Promise.all([chunked.closed, multipart.closed]);
    expect(statusOf(await chunked.response)).toBe(408);
    expect(statusOf(await multipart.response)).toBe(408);
  });
});

describe('slow clients hold nothing once the deadline has passed', () => {
  test('20 stalled clients: everyone else is served meanwhile, and afterwards no connection is left open', async () => {
    const httpServer = http.createServer(buildApp('express5', { bodyTimeout: 2 }).app);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(httpServer.address() as net.AddressInfo).port}`;
    const request = form(
      { grant_type: 'client_credentials' },
      { Authorization: basic('web-app', 'web-secret'), Connection: 'close' },
    );
    try {
      expect((await send(url, TOKEN, request)).status).toBe(200);
      const stalled = Array.from({ length: 20 }, () =>
        openRaw(
          url,
          head(TOKEN, { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '100' }) + 'grant_type=',
        ),
      );
      let stalledOpen = true;
      void Promise.race(stalled.map((x) => x.closed)).then(() => (stalledOpen = false));
      // Served while the stalled ones still wait.
      const ok = await send(url, TOKEN, request);
      expect(ok.status).toBe(200);
      expect(stalledOpen).toBe(true);
      await Promise.all(stalled.map((x) => x.closed));
      for (const x of stalled) expect(statusOf(await x.response)).toBe(408);
      const open = await new Promise<number>((resolve, reject) =>
        httpServer.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      );
      expect(open).toBe(0);
    } finally {
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });

  test('the revocation endpoint and a requireToken({ allowBody }) route read bodies under the same deadline', async () => {
    const oauth = oauthServer(memoryStores({ clients: CLIENTS, users: USERS }), {
      issuer: ISSUER,
      logger: recordingLogger(),
      bodyTimeout: TIMEOUT_S,
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require('express5');
    const app = express();
    app.use(oauth);
    app.post('/api/upload', oauth.requireToken({ allowBody: true }), (_req: unknown, res: { end: () => void }) =>
      res.end(),
    );
    const server = await listen(app);
    try {
      const revoke = openRaw(
        server.url,
        head('/oauth/revoke', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '100' }) +
          'token=',
      );
      const guarded = openRaw(
        server.url,
        head('/api/upload', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '100' }) +
          'access_token=',
      );
      // Closed, not just answered: the 408 keeps its Connection: close through requireToken's challenge.
      for (const closedAfter of await Promise.all([revoke.closed, guarded.closed]))
        expect(closedAfter).toBeLessThan(TIMEOUT_S * 1000 + 3000);
      expect(statusOf(await revoke.response)).toBe(408);
      expect(statusOf(await guarded.response)).toBe(408);
    } finally {
      await server.close();
    }
  });

  test('bodyTimeout defaults to 10 s and is validated at start-up', () => {
    const stores = memoryStores({ clients: CLIENTS });
    const make = (bodyTimeout: unknown) =>
      oauthServer(stores, { issuer: ISSUER, logger: recordingLogger(), bodyTimeout: bodyTimeout as number });
    expect(make(undefined).context.options.bodyTimeoutMs).toBe(10_000);
    expect(make(2.5).context.options.bodyTimeoutMs).toBe(2500);
    for (const bad of [0, -1, Number.NaN, Infinity, '10', 7200]) {
      expect(() => make(bad)).toThrow(/options\.bodyTimeout must be a number of seconds between 0 and 3600/);
    }
  });
});
