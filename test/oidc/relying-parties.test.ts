/**
 * Real relying parties, end to end over real HTTP, by discovery alone: openid-client v6 (an
 * OpenID Certified RP library; Node) and Authlib 1.2 (Debian's python3-authlib; Python).
 * Each runs as a child process against a listening tokengate server and validates the ID
 * tokens itself (signature by JWKS, iss, aud, exp, iat, nonce, at_hash, auth_time).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { memoryStores, type MemoryClientInput } from '../../src';
import { buildOidcApp, OIDC_CLIENTS, OIDC_USERS, RP_LOGOUT, RP_REDIRECT, RP_SECRET } from '../support/oidc';

const exec = promisify(execFile);
/** Run a relying party; on failure, its own error output is the message. */
async function run(file: string, args: string[]): Promise<{ stdout: string }> {
  try {
    return await exec(file, args, { timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${file} failed: ${e.stderr || e.message}`, { cause: err });
  }
}
const FIXTURES = join(__dirname, '..', 'fixtures');

describe('relying parties against a listening server', () => {
  let server: http.Server;
  let issuer: string;
  let passportPort: number;
  const loggedOut: string[] = [];

  beforeAll(async () => {
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The Passport app listens on a port picked now, so its redirect URI can be registered exactly.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    passportPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const passportClient: MemoryClientInput = {
      id: 'rp-passport',
      secret: RP_SECRET,
      grants: ['authorization_code'],
      scopes: ['openid', 'profile', 'email'],
      redirectUris: [`http://127.0.0.1:${passportPort}/cb`],
    };
    const { app } = buildOidcApp(
      'express5',
      { issuer, openid: { logout: (_req, _res, info) => void loggedOut.push(String(info.idToken?.sub)) } },
      memoryStores({ clients: [...OIDC_CLIENTS, passportClient], users: OIDC_USERS }),
    );
    server.on('request', app);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('openid-client v6: discovery, code + PKCE + nonce + max_age, ID token validation, UserInfo, refresh, prompt=none, logout URL', async () => {
    const { stdout } = await run(process.execPath, [
      join(FIXTURES, 'oidc-rp-openid-client.mjs'),
      issuer,
      'rp',
      RP_SECRET,
      RP_REDIRECT,
      RP_LOGOUT,
    ]);
    const seen = JSON.parse(stdout);
    expect(seen.alg).toBe('RS256');
    expect(seen.claims).toMatchObject({
      iss: issuer,
      sub: 'user-alice',
      aud: 'rp',
      nonce: expect.any(String),
      auth_time: expect.any(Number),
      at_hash: expect.any(String),
    });
    expect(seen.userinfo).toEqual({
      sub: 'user-alice',
      name: 'Alice Liddell',
      given_name: 'Alice',
      email: 'alice@example.com',
      email_verified: true,
    });
    expect(seen.refreshedClaims).toMatchObject({ sub: 'user-alice', auth_time: seen.claims.auth_time });
    expect(seen.refreshedClaims).not.toHaveProperty('nonce');
    expect(seen.silentError).toBe('login_required');
    expect(seen.logoutUrl.startsWith(`${issuer}/oauth/logout?`)).toBe(true);
    expect(seen.logoutStatus).toBe(302);
    expect(seen.logoutLocation).toBe(`${RP_LOGOUT}?state=bye-1`);
    expect(loggedOut).toContain('user-alice');
  }, 90_000);

  test("Passport with openid-client's strategy, as docs/openid-connect.md shows it: the RP app signs the user in", async () => {
    const { stdout } = await run(process.execPath, [
      join(FIXTURES, 'oidc-rp-passport.mjs'),
      issuer,
      RP_SECRET,
      String(passportPort),
    ]);
    const seen = JSON.parse(stdout);
    const authorize = new URL(seen.authorizeUrl);
    expect(authorize.origin + authorize.pathname).toBe(`${issuer}/oauth/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(seen.home.user).toMatchObject({ iss: issuer, sub: 'user-alice', aud: 'rp-passport' });
  }, 90_000);

  test('Authlib (python3-authlib): discovery, code + PKCE + nonce, CodeIDToken validation with at_hash, UserInfo, refresh', async () => {
    const { stdout } = await run('/usr/bin/python3', [
      join(FIXTURES, 'oidc-rp-authlib.py'),
      issuer,
      'rp',
      RP_SECRET,
      RP_REDIRECT,
    ]);
    const seen = JSON.parse(stdout);
    expect(seen.claims).toMatchObject({
      iss: issuer,
      sub: 'user-alice',
      aud: 'rp',
      nonce: expect.any(String),
      at_hash: expect.any(String),
    });
    expect(seen.userinfo).toMatchObject({ sub: 'user-alice', email: 'alice@example.com', name: 'Alice Liddell' });
    expect(seen.refreshed_sub).toBe('user-alice');
    expect(seen.scope).toBe('openid profile email');
  }, 90_000);
});
