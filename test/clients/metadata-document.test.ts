/**
 * Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): an https
 * client_id is resolved by fetching its document, validated (client_id inside equals the URL,
 * redirect URIs as for registration), cached per its caching headers within bounds; internal
 * addresses are never fetched.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { memoryStores } from '../../src';
import { authorizeUrl, buildCodeApp, HOOK_HEADERS, locationParams, pkcePair } from '../support/authorization-code';

const HOST = 'https://agent.example.com';
const DOC_URL = `${HOST}/oauth/client.json`;
const REDIRECT = 'http://127.0.0.1:8765/callback';
const MCP = 'https://mcp.example.com/mcp';

/** Documents served by a real HTTP server standing in for https://agent.example.com. */
const documents = new Map<string, { body: string; headers?: Record<string, string> }>();
let fetches: string[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    fetches.push(req.url ?? '');
    const doc = documents.get(req.url ?? '');
    if (!doc) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json', ...doc.headers }).end(doc.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  fetches = [];
  documents.clear();
});

function serve(path: string, doc: Record<string, unknown>, headers?: Record<string, string>): string {
  documents.set(path, { body: JSON.stringify(doc), headers });
  return HOST + path;
}

function app(options: Record<string, unknown> = {}) {
  return buildCodeApp(
    'express5',
    {
      resources: { [MCP]: { scopes: ['tools:call'] } },
      clientIdMetadataDocuments: { fetch: (url, init) => fetch(url.replace(HOST, base), init), ...options },
    },
    memoryStores({ clients: [] }),
  );
}

function authorize(target: Parameters<typeof request>[0], clientId: string, redirectUri = REDIRECT) {
  const { challenge, verifier } = pkcePair();
  const url = authorizeUrl({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'tools:call',
    resource: MCP,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return { req: request(target).get(url).set(HOOK_HEADERS.user, 'user-alice'), verifier };
}

const GOOD = {
  client_name: 'Agent',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
};

test('metadata advertises client_id_metadata_document_supported', () => {
  expect(app().oauth.metadata.client_id_metadata_document_supported).toBe(true);
});

test('an https client_id is resolved from its document: authorization and token requests work for it as a public client', async () => {
  const { app: server } = app();
  const clientId = serve('/oauth/client.json', { client_id: DOC_URL, ...GOOD });
  const { req, verifier } = authorize(server, clientId);
  const res = await req;
  expect(res.status).toBe(302);
  const code = locationParams(res.headers.location).get('code') as string;
  expect(code).toEqual(expect.any(String));
  const token = await request(server).post('/oauth/token').type('form').send({
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    resource: MCP,
  });
  expect(token.status).toBe(200);
  expect(token.body.refresh_token).toEqual(expect.any(String));
});

test.each([
  ['a document naming another client_id', { client_id: `${HOST}/other.json`, ...GOOD }],
  [
    'a document asking for a shared secret',
    { client_id: DOC_URL, ...GOOD, token_endpoint_auth_method: 'client_secret_basic' },
  ],
  [
    'a document with an http redirect URI that is not loopback',
    { client_id: DOC_URL, ...GOOD, redirect_uris: ['http://agent.example.com/cb'] },
  ],
  [
    'a document with a javascript: redirect URI',
    { client_id: DOC_URL, ...GOOD, redirect_uris: ['javascript:alert(1)'] },
  ],
])('%s makes the client unknown (the request is refused on a page, never redirected)', async (_name, doc) => {
  const { app: server, logger } = app();
  serve('/oauth/client.json', doc);
  const res = await authorize(server, DOC_URL).req;
  expect(res.status).toBe(400);
  expect(res.headers.location).toBeUndefined();
  expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('was not usable'))).toBe(true);
});

test.each([
  ['http', 'http://agent.example.com/client.json'],
  ['a fragment', `${DOC_URL}#x`],
  ['a dot segment', `${HOST}/a/../client.json`],
  ['no path', `${HOST}/`],
  ['credentials', 'https://user:pw@agent.example.com/client.json'],
])('a client_id URL with %s is not fetched', async (_name, clientId) => {
  const { app: server } = app();
  await authorize(server, clientId).req;
  expect(fetches).toEqual([]);
});

test('documents are cached per Cache-Control max-age, within the configured bounds', async () => {
  const { app: server } = app({ minCacheSeconds: 60, maxCacheSeconds: 3600 });
  serve('/oauth/client.json', { client_id: DOC_URL, ...GOOD }, { 'cache-control': 'max-age=300' });
  for (let i = 0; i < 3; i++) expect((await authorize(server, DOC_URL).req).status).toBe(302);
  expect(fetches).toEqual(['/oauth/client.json']);

  // no-store still gets the minimum, so a document cannot make every request a fetch.
  serve('/oauth/nostore.json', { client_id: `${HOST}/oauth/nostore.json`, ...GOOD }, { 'cache-control': 'no-store' });
  for (let i = 0; i < 3; i++) await authorize(server, `${HOST}/oauth/nostore.json`).req;
  expect(fetches.filter((f) => f === '/oauth/nostore.json')).toHaveLength(1);
});

test('a max-age of 0 with a zero minimum refetches; failures are cached for the minimum too', async () => {
  const { app: server } = app({ minCacheSeconds: 0 });
  serve('/oauth/client.json', { client_id: DOC_URL, ...GOOD }, { 'cache-control': 'max-age=0' });
  await authorize(server, DOC_URL).req;
  await new Promise((resolve) => setTimeout(resolve, 5));
  await authorize(server, DOC_URL).req;
  expect(fetches).toHaveLength(2);

  const { app: other } = app({ minCacheSeconds: 60 });
  fetches = [];
  for (let i = 0; i < 3; i++) await authorize(other, `${HOST}/missing.json`).req;
  expect(fetches).toEqual(['/missing.json']);
});

test('the cache is bounded: maxDocuments', async () => {
  const { app: server } = app({ maxDocuments: 2 });
  for (const n of [1, 2, 3, 1]) {
    serve(`/c${n}.json`, { client_id: `${HOST}/c${n}.json`, ...GOOD });
    await authorize(server, `${HOST}/c${n}.json`).req;
  }
  // c1 was evicted by c3, so it was fetched twice.
  expect(fetches).toEqual(['/c1.json', '/c2.json', '/c3.json', '/c1.json']);
});

test('SSRF: with the built-in fetch, a client_id on an internal address is never connected to', async () => {
  let connections = 0;
  const internal = http.createServer((_req, res) => res.end('{}'));
  internal.on('connection', () => connections++);
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  const port = (internal.address() as AddressInfo).port;
  try {
    const { app: server, logger } = buildCodeApp(
      'express5',
      { clientIdMetadataDocuments: { timeout: 15 } },
      memoryStores({ clients: [] }),
    );
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, '169.254.169.254', '[::1]', '10.0.0.1']) {
      const res = await authorize(server, `https://${host}/client.json`).req;
      expect(res.status).toBe(400);
    }
    expect(connections).toBe(0);
    expect(logger.lines.filter((l) => /special address|resolves only to private/.test(l.message))).toHaveLength(5);
  } finally {
    internal.closeAllConnections();
    await new Promise((resolve) => internal.close(resolve));
  }
});
