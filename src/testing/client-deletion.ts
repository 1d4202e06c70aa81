/**
 * The end-to-end half of the registration rules: through a real server over HTTP, a client
 * registered in the store under test gets tokens, and once deleted (RFC 7592 §2.3) those
 * tokens stop working and the client can no longer authenticate.
 * @packageDocumentation
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { oauthServer } from '../server';
import type { ClientStore } from '../stores/types';
import { rule } from './harness';

const quiet = { warn: () => undefined, error: () => undefined };

async function call(
  base: string,
  path: string,
  init: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = {};
  }
  return { status: res.status, body };
}

/** Register, get a token, delete, and check the token and the client are dead. */
export async function deletionKillsTokens(store: ClientStore): Promise<void> {
  const r = rule('ClientStore.deleteClient', "a deleted client's tokens stop working");
  const oauth = oauthServer(
    { clients: store },
    {
      issuer: 'http://127.0.0.1',
      logger: quiet,
      keys: [{ alg: 'HS256', secret: 'kit-secret-kit-secret-kit-secret-0123' }],
      scopesSupported: ['kit'],
      registration: { open: true, perAddress: false },
    },
  );
  const guard = oauth.requireToken({ scope: 'kit' });
  const server = http.createServer((req, res) => {
    if (req.url === '/api') return guard(req, res, () => res.end('ok'));
    oauth(req, res, () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const reg = await call(base, '/oauth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: ['client_credentials'], response_types: [], scope: 'kit' }),
    });
    if (reg.status !== 201)
      throw r.fail(`registration through the server answered ${reg.status}; registerClient must store the client`);
    const basic =
      'Basic ' + Buffer.from(`${String(reg.body.client_id)}:${String(reg.body.client_secret)}`).toString('base64');
    const tokenRequest = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
      body: 'grant_type=client_credentials',
    };
    const token = await call(base, '/oauth/token', tokenRequest);
    if (token.status !== 200)
      throw r.fail(
        `the registered client could not get a token (${token.status}); findClient must find what registerClient stored, secretHash included`,
      );
    const bearer = { headers: { authorization: `Bearer ${String(token.body.access_token)}` } };
    r.check(
      (await call(base, '/api', bearer)).status === 200,
      'the token of a registered client was refused before its deletion',
    );
    const deleted = await call(base, `/oauth/register/${encodeURIComponent(String(reg.body.client_id))}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(reg.body.registration_access_token)}` },
    });
    r.check(deleted.status === 204, `deleting through the server answered ${deleted.status}`);
    r.check((await call(base, '/api', bearer)).status === 401, 'an access token of a deleted client still works');
    r.check(
      (await call(base, '/oauth/token', tokenRequest)).status === 401,
      'a deleted client can still authenticate at the token endpoint',
    );
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
