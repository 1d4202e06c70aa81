/**
 * Interop with real clients (RFC 9449, RFC 7523): oauth4webapi (`DPoP()`, `PrivateKeyJwt`),
 * openid-client v6 (`getDPoPHandle`, `PrivateKeyJwt`) and Python Authlib (`PrivateKeyJWT`,
 * DPoP proofs signed with its JOSE) each obtain a DPoP-bound token from a listening tokengate
 * and call a route that requires DPoP; the machine client has no shared secret at all. The JS
 * clients are ESM-only and run in a child Node process; Authlib runs under Debian's python3
 * (python3-authlib, installed by .ci/run).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { memoryStores, oauthServer } from '../../src';
import { CLIENTS, recordingLogger, USERS } from '../support/spine';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

interface Outcome {
  token_type?: string;
  status?: number;
  body?: { client_id: string; cnf: { jkt: string } };
  error?: string;
}

function expectBoundCall(name: string, result: Outcome | undefined, clientId: string): void {
  expect({ name, error: result?.error }).toEqual({ name, error: undefined });
  expect({
    name,
    tokenType: result?.token_type?.toLowerCase(),
    status: result?.status,
    clientId: result?.body?.client_id,
  }).toEqual({ name, tokenType: 'dpop', status: 200, clientId });
  expect(result?.body?.cnf.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
}

describe('real clients obtain DPoP-bound tokens, with a secret and with private_key_jwt', () => {
  const server = http.createServer();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const kid = 'machine-2026';
  const dir = mkdtempSync(path.join(tmpdir(), 'tokengate-interop-'));
  const keyFile = path.join(dir, 'machine.pem');
  let issuer = '';

  beforeAll(async () => {
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const clients = [
      ...CLIENTS,
      {
        id: 'machine',
        grants: ['client_credentials' as const],
        scopes: ['read'],
        tokenEndpointAuthMethod: 'private_key_jwt' as const,
        jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] },
      },
    ];
    const oauth = oauthServer(memoryStores({ clients, users: USERS }), { issuer, logger: recordingLogger() });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const app = require('express5')();
    app.use(oauth);
    app.get(
      '/api/dpop',
      oauth.requireToken({ scope: 'read', requireDpop: true }),
      (req: { auth: { clientId: string; claims: Record<string, unknown> } }, res: { json: (b: unknown) => void }) =>
        res.json({ client_id: req.auth.clientId, cnf: req.auth.claims.cnf }),
    );
    server.on('request', app);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('oauth4webapi and openid-client v6: DPoP handles with client_secret_post and with PrivateKeyJwt (RFC 9449 §5, §7; RFC 7523 §2.2)', async () => {
    const machineKey = JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid });
    const { stdout } = await run(process.execPath, [path.join(__dirname, '../fixtures/interop-clients.mjs'), issuer], {
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: '', MACHINE_KEY: machineKey },
    });
    const results = JSON.parse(stdout) as Record<string, Outcome>;
    for (const name of ['oauth4webapi', 'openid-client']) {
      expectBoundCall(`${name} client_secret_post`, results[`${name} client_secret_post`], 'web-app');
      expectBoundCall(`${name} private_key_jwt`, results[`${name} private_key_jwt`], 'machine');
    }
  }, 90_000);

  test('Python Authlib: PrivateKeyJWT client authentication and a DPoP-bound token (RFC 7523 §2.2, RFC 9449 §5)', async () => {
    const { stdout } = await run(PYTHON, [path.join(__dirname, '../fixtures/interop-authlib.py'), issuer, keyFile], {
      timeout: 60_000,
    });
    expectBoundCall('authlib', JSON.parse(stdout) as Outcome, 'machine');
  }, 90_000);
});
