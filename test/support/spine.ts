/**
 * Fixtures for the spine's tests: the issue's demo clients and users, a server built on a
 * chosen framework (Express 4, Express 5 or Connect), and small request helpers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { oauthServer, memoryStores } from '../../src';
import type { MemoryClientInput, MemoryUserInput, OAuthServer, ServerOptions, Stores, Logger } from '../../src';

export const ISSUER = 'https://auth.example.com';

/** A secret with every character RFC 6749 Appendix B makes clients encode. */
export const ODD_SECRET = 'a-b_c%d:e+f g';

export const CLIENTS: MemoryClientInput[] = [
  {
    id: 'web-app',
    secret: 'web-secret',
    grants: ['client_credentials', 'password', 'refresh_token'],
    scopes: ['read', 'write'],
  },
  { id: 'odd-app', secret: ODD_SECRET, grants: ['client_credentials'], scopes: ['read'] },
  {
    id: 'reader',
    secret: 'reader-secret',
    grants: ['client_credentials', 'password', 'refresh_token'],
    scopes: ['read', 'write'],
    defaultScopes: ['read'],
  },
  { id: 'no-refresh', secret: 'no-refresh-secret', grants: ['password'], scopes: ['read'] },
  { id: 'spa', grants: ['password', 'refresh_token', 'client_credentials'], scopes: ['read'] },
];

export const USERS: MemoryUserInput[] = [{ id: 'user-alice', username: 'alice@example.com', password: 'wonderland' }];

/** A logger that records what it is told, so tests can read it (and check nothing leaks). */
export function recordingLogger(): Logger & { lines: { level: string; message: string; detail: unknown }[] } {
  const lines: { level: string; message: string; detail: unknown }[] = [];
  return {
    lines,
    warn: (message, detail) => lines.push({ level: 'warn', message, detail }),
    error: (message, detail) => lines.push({ level: 'error', message, detail }),
  };
}

export type Framework = 'express4' | 'express5' | 'connect';
export const FRAMEWORKS: Framework[] = ['express4', 'express5', 'connect'];

export interface TestApp {
  app: http.RequestListener;
  oauth: OAuthServer;
  logger: ReturnType<typeof recordingLogger>;
}

/**
 * An app with the server mounted at the root and two guarded routes:
 * `/api/me` (scope read) and `/api/write` (scope write).
 */
export function buildApp(
  framework: Framework = 'express5',
  options: Partial<ServerOptions> = {},
  stores: Stores = memoryStores({ clients: CLIENTS, users: USERS }),
  before?: (app: { use: (...args: unknown[]) => unknown }) => void,
): TestApp {
  const logger = recordingLogger();
  const oauth = oauthServer(stores, { issuer: ISSUER, logger, ...options });
  const me = (req: http.IncomingMessage & { auth?: unknown }, res: http.ServerResponse): void => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify((req as { auth: unknown }).auth));
  };
  if (framework === 'connect') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const connect = require('connect');
    const app = connect();
    before?.(app);
    app.use(oauth);
    app.use('/api/me', oauth.requireToken({ scope: 'read' }));
    app.use('/api/me', me);
    app.use('/api/write', oauth.requireToken({ scope: 'write' }));
    app.use('/api/write', me);
    return { app, oauth, logger };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require(framework);
  const app = express();
  before?.(app);
  app.use(oauth);
  app.get('/api/me', oauth.requireToken({ scope: 'read' }), me);
  app.get('/api/write', oauth.requireToken({ scope: 'write' }), me);
  return { app, oauth, logger };
}

/** HTTP Basic credentials, form-urlencoded first as RFC 6749 §2.3.1 says. */
export function basic(id: string, secret: string): string {
  const enc = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');
  return 'Basic ' + Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64');
}

/** Start a listening server on a free port; returns its URL and a closer. */
export async function listen(app: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Decode a JWT's payload without verifying it (for assertions only). */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h as string, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p as string, 'base64url').toString()),
  };
}
