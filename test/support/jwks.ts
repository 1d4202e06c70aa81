/**
 * An issuer's JWKS endpoint the test controls (which keys it publishes, whether it answers,
 * hangs, fails or misbehaves), and access tokens signed with those keys, for testing the
 * standalone resource server's key handling without an authorization server.
 */
import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type http from 'node:http';
import jwt from 'jsonwebtoken';
import { listen } from './spine';

/** An ES256 key with its kid. */
export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

/** A fresh ES256 key published as `{ kid, alg: ES256, use: sig }`. */
export function testKey(kid: string): TestKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    kid,
    privateKey,
    jwk: { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' },
  };
}

export const TEST_ISSUER = 'https://issuer.example.com';
export const TEST_AUDIENCE = 'https://api.example.com';

/**
 * A fresh access token (RFC 9068: typ at+jwt, unique jti) signed with `key`, for `kid`
 * (default the key's own), with extra header members.
 */
export function accessToken(
  key: TestKey,
  options: { kid?: string; header?: Record<string, unknown>; claims?: Record<string, unknown> } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    sub: 'user-alice',
    client_id: 'web-app',
    scope: 'read',
    jti: randomUUID(),
    iat: now,
    exp: now + 300,
    ...options.claims,
  };
  return jwt.sign(claims, key.privateKey, {
    algorithm: 'ES256',
    header: { alg: 'ES256', typ: 'at+jwt', kid: options.kid ?? key.kid, ...options.header },
  });
}

/** How the JWKS endpoint answers. */
export type JwksMode = 'ok' | 'fail' | 'hang' | 'huge' | 'redirect';

/** A JWKS endpoint on a free loopback port. */
export interface JwksServer {
  /** The JWKS URL. */
  url: string;
  /** The keys published now. */
  keys: TestKey[];
  mode: JwksMode;
  /** Where `redirect` mode sends the client. */
  redirectTo: string;
  /** Requests received so far (including ones still hanging). */
  hits: number;
  /** Answer every hanging request (with the current keys). */
  release(): void;
  close(): Promise<void>;
}

/** Start a JWKS endpoint publishing `keys`. */
export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const hanging: http.ServerResponse[] = [];
  const answer = (res: http.ServerResponse): void => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
  };
  const server = await listen((_req, res) => {
    state.hits++;
    switch (state.mode) {
      case 'ok':
        return answer(res);
      case 'fail':
        res.statusCode = 503;
        return void res.end('{"error":"unavailable"}');
      case 'hang':
        return void hanging.push(res);
      case 'huge':
        // A JWK Set padded past any sensible size, streamed without Content-Length.
        res.setHeader('Content-Type', 'application/json');
        res.write('{"keys":[],"padding":"');
        for (let i = 0; i < 64; i++) res.write('x'.repeat(16 * 1024));
        return void res.end('"}');
      case 'redirect':
        res.statusCode = 302;
        res.setHeader('Location', state.redirectTo);
        return void res.end();
    }
  });
  const state: JwksServer = {
    url: `${server.url}/jwks`,
    keys,
    mode: 'ok',
    redirectTo: '',
    hits: 0,
    release() {
      for (const res of hanging.splice(0)) answer(res);
    },
    close: () => {
      state.release();
      return server.close();
    },
  };
  return state;
}
