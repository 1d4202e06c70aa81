/**
 * A real authorization server in its own process, for the resource-server tests. It serves
 * two issuers on one port:
 *   - `http://127.0.0.1:PORT`         JWT access tokens, keys from the parent (rotatable)
 *   - `http://127.0.0.1:PORT/opaque`  opaque access tokens (an issuer with a path, RFC 8414 §3.1)
 * both with audience `https://api.example.com`, and counts the requests to its endpoints.
 *
 * Started by `startAuthServerProcess()` with `fork()`; talks over IPC:
 *   parent → { type: 'rotate', keys }  child → { type: 'rotated' }
 *   parent → { type: 'stats' }         child → { type: 'stats', hits }
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryStores, oauthServer, type KeyInput, type OAuthServer } from '../../src';
import { LIFECYCLE_CLIENTS } from './lifecycle';
import { recordingLogger, USERS } from './spine';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const express = require('express');

export const AUDIENCE = 'https://api.example.com';

const initialKeys = JSON.parse(process.env.TOKENGATE_TEST_KEYS ?? '[]') as KeyInput[];
const hits: Record<string, number> = {};
const jwtStores = memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS });
const opaqueStores = memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS });
let handler: http.RequestListener = (_req, res) => res.end();

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0] as string;
  hits[path] = (hits[path] ?? 0) + 1;
  handler(req, res);
});

function echoAuth(req: http.IncomingMessage & { auth?: unknown }, res: http.ServerResponse): void {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(req.auth));
}

function build(issuer: string, keys: KeyInput[]): void {
  const logger = recordingLogger();
  const jwt: OAuthServer = oauthServer(jwtStores, { issuer, audience: AUDIENCE, keys, logger });
  const opaque: OAuthServer = oauthServer(opaqueStores, {
    issuer: `${issuer}/opaque`,
    audience: AUDIENCE,
    accessTokenFormat: 'opaque',
    logger,
  });
  const app = express();
  app.use(opaque.wellKnown);
  app.use('/opaque', opaque);
  app.use(jwt);
  app.get('/api/me', jwt.requireToken({ scope: 'read' }), echoAuth);
  app.get('/api/write', jwt.requireToken({ scope: 'write' }), echoAuth);
  handler = app;
}

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  build(issuer, initialKeys);
  process.on('message', (message: { type: string; keys?: KeyInput[] }) => {
    if (message.type === 'rotate') {
      // A redeploy with a new key configuration: same URL, same stores.
      build(issuer, message.keys ?? []);
      process.send?.({ type: 'rotated' });
    } else if (message.type === 'stats') {
      process.send?.({ type: 'stats', hits });
    }
  });
  process.send?.({ type: 'ready', issuer });
});

// Exit with the parent, whatever happens to it.
process.on('disconnect', () => process.exit(0));
