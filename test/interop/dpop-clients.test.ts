/**
 * Interop with real clients (RFC 9449): oauth4webapi (its `DPoP()` handle) and openid-client
 * v6 (`getDPoPHandle`) each obtain a DPoP-bound token from a listening tokengate and call a
 * route that requires DPoP. The clients are ESM-only, so they run in a child Node process.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { memoryStores, oauthServer } from '../../src';
import { CLIENTS, recordingLogger, USERS } from '../support/spine';

const run = promisify(execFile);

test('oauth4webapi and openid-client obtain a DPoP-bound token and call a requireDpop route with it (RFC 9449 §5, §7)', async () => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const oauth = oauthServer(memoryStores({ clients: CLIENTS, users: USERS }), { issuer, logger: recordingLogger() });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require('express5');
    const app = express();
    app.use(oauth);
    app.get('/api/dpop', oauth.requireToken({ scope: 'read', requireDpop: true }), (req: { auth: { clientId: string; claims: Record<string, unknown> } }, res: { json: (b: unknown) => void }) =>
      res.json({ client_id: req.auth.clientId, cnf: req.auth.claims.cnf }),
    );
    server.on('request', app);
    const { stdout } = await run(process.execPath, [path.join(__dirname, '../fixtures/dpop-clients.mjs'), issuer], { timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } });
    const results = JSON.parse(stdout) as Record<string, { token_type?: string; status?: number; body?: { client_id: string; cnf: { jkt: string } }; error?: string }>;
    for (const name of ['oauth4webapi', 'openid-client']) {
      const result = results[name];
      expect({ name, error: result?.error }).toEqual({ name, error: undefined });
      expect(result?.token_type?.toLowerCase()).toBe('dpop');
      expect(result?.status).toBe(200);
      expect(result?.body?.client_id).toBe('web-app');
      expect(result?.body?.cnf.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}, 90_000);
