/**
 * Loopback redirect URIs (RFC 8252 §7.3, RFC 9700 §4.1.3): a native app registers
 * `http://127.0.0.1/cb` (or `http://[::1]/cb`) and names whatever ephemeral port the operating
 * system gave it at request time. Only the port loosens; `localhost` gets no exemption
 * (RFC 8252 §8.3). Through real HTTP under Express 4, Express 5 and Connect.
 */
import request from 'supertest';
import { memoryStores, type MemoryClientInput } from '../../src';
import { redirectUriMatches } from '../../src/clients/redirect-uri';
import {
  CLIENTS,
  FRAMEWORKS,
  HOOK_HEADERS,
  USERS,
  authorizeUrl,
  buildCodeApp,
  exchange,
  locationParams,
  obtainCode,
  pkcePair,
} from '../support/authorization-code';

const NATIVE: MemoryClientInput[] = [
  {
    id: 'native-v4',
    grants: ['authorization_code', 'refresh_token'],
    scopes: ['read'],
    redirectUris: ['http://127.0.0.1/cb'],
  },
  { id: 'native-v6', grants: ['authorization_code'], scopes: ['read'], redirectUris: ['http://[::1]/cb'] },
  {
    id: 'native-port',
    grants: ['authorization_code'],
    scopes: ['read'],
    redirectUris: ['http://127.0.0.1:8080/cb?app=cli'],
  },
  { id: 'native-localhost', grants: ['authorization_code'], scopes: ['read'], redirectUris: ['http://localhost/cb'] },
];

function nativeApp(framework: (typeof FRAMEWORKS)[number] = 'express5') {
  return buildCodeApp(framework, {}, memoryStores({ clients: [...CLIENTS, ...NATIVE], users: USERS }));
}

function nativeRequest(clientId: string, redirectUri: string) {
  const { verifier, challenge } = pkcePair();
  return {
    verifier,
    params: {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: 'read',
      state: 'st-native',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    },
  };
}

describe.each(FRAMEWORKS)('loopback redirect URIs under %s', (framework) => {
  const { app } = nativeApp(framework);

  test.each([
    ['native-v4', 'http://127.0.0.1:53123/cb'],
    ['native-v6', 'http://[::1]:53123/cb'],
    ['native-port', 'http://127.0.0.1:9191/cb?app=cli'],
    ['native-v4', 'http://127.0.0.1/cb'],
  ])('a loopback IP redirect URI accepts any port (RFC 8252 §7.3): %s with %s', async (clientId, redirectUri) => {
    const { params, verifier } = nativeRequest(clientId, redirectUri);
    const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(302);
    // The answer goes to the port the app named, not to the registered string.
    expect(
      (res.headers.location as string).startsWith(`${redirectUri}${redirectUri.includes('?') ? '&' : '?'}code=`),
    ).toBe(true);
    const code = locationParams(res.headers.location).get('code') as string;
    const token = await exchange(app, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: clientId,
      code_verifier: verifier,
    });
    expect(token.status).toBe(200);
    expect(token.body.access_token).toEqual(expect.any(String));
  });
});

describe('loopback redirect URIs: nothing but the port loosens (RFC 9700 §4.1.3)', () => {
  const { app, calls } = nativeApp();

  const refused: [string, string][] = [
    ['native-localhost', 'http://localhost:53123/cb'], // RFC 8252 §8.3: localhost gets no exemption
    ['native-v4', 'http://127.0.0.1:53123/cb/'],
    ['native-v4', 'http://127.0.0.1:53123/cb?x=1'],
    ['native-v4', 'http://127.0.0.1:53123/CB'],
    ['native-v4', 'http://127.0.0.1:53123/other'],
    ['native-v4', 'http://127.0.0.1:53123'],
    ['native-v4', 'https://127.0.0.1:53123/cb'],
    ['native-v4', 'http://[::1]:53123/cb'],
    ['native-v6', 'http://127.0.0.1:53123/cb'],
    ['native-v4', 'http://127.0.0.2:53123/cb'],
    ['native-v4', 'http://127.0.0.1.evil.example:53123/cb'],
    ['native-v4', 'http://127.0.0.1:80@evil.example/cb'],
    ['native-v4', 'http://user@127.0.0.1:53123/cb'],
    ['native-v4', 'http://127.0.0.1:053123/cb'],
    ['native-v4', 'http://127.0.0.1:99999/cb'],
    ['native-v4', 'http://127.0.0.1:/cb'],
    ['native-v4', 'http://127.0.0.1:53123#/cb'],
    ['native-v4', 'HTTP://127.0.0.1:53123/cb'],
    ['native-port', 'http://127.0.0.1:8080/cb'],
    ['spa', 'https://spa.example.com:8443/callback'], // not loopback: the port is exact
  ];

  test.each(refused)('%s with redirect_uri %s: 400 error page, no redirect', async (clientId, redirectUri) => {
    const { params } = nativeRequest(clientId, redirectUri);
    const before = calls.authenticate;
    const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(calls.authenticate).toBe(before);
  });

  test('a code issued for one loopback port is redeemed only with that same redirect_uri (RFC 6749 §4.1.3)', async () => {
    const { params, verifier } = nativeRequest('native-v4', 'http://127.0.0.1:53123/cb');
    const code = await obtainCode(app, params);
    const other = await exchange(app, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:53124/cb',
      client_id: 'native-v4',
      code_verifier: verifier,
    });
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('invalid_grant');
    const same = await exchange(app, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:53123/cb',
      client_id: 'native-v4',
      code_verifier: verifier,
    });
    expect(same.status).toBe(200);
  });

  test('the answer carries the state of the request sent to the ephemeral port', async () => {
    const { params } = nativeRequest('native-v6', 'http://[::1]:61000/cb');
    const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(302);
    expect(locationParams(res.headers.location).get('state')).toBe('st-native');
  });
});

describe('redirectUriMatches (RFC 8252 §7.3)', () => {
  test('compares exactly apart from a loopback IP port', () => {
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:1/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:65535/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:65536/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:0/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:1/cb\n')).toBe(false);
    expect(redirectUriMatches('https://app.example/cb', 'https://app.example/cb')).toBe(true);
    expect(redirectUriMatches('http://localhost/cb', 'http://localhost:1/cb')).toBe(false);
  });
});
