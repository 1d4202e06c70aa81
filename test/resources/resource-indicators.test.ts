/**
 * Resource indicators (RFC 8707): `resource` at the authorize and token endpoints, the
 * audience of the tokens (RFC 9068 §3), narrowing (§2.2), introspection, and the guards'
 * audience check.
 */
import request from 'supertest';
import { memoryStores, oauthServer, type MemoryClientInput, type ServerOptions } from '../../src';
import {
  authorizeUrl,
  buildCodeApp,
  HOOK_HEADERS,
  locationParams,
  obtainCode,
  pkcePair,
} from '../support/authorization-code';
import { basic, decodeJwt, FRAMEWORKS, ISSUER, recordingLogger, type Framework } from '../support/spine';

const MCP = 'https://mcp.example.com/mcp';
const FILES = 'https://files.example.com/';
const NOTES = 'https://notes.example.com/api';
const REDIRECT = 'https://app.example.com/cb';

const RESOURCES: ServerOptions['resources'] = {
  [MCP]: { scopes: ['tools:read', 'tools:call'] },
  [FILES]: { scopes: ['files:read'] },
  // No scope list: any scope the client may have.
  [NOTES]: {},
};

const CLIENTS: MemoryClientInput[] = [
  {
    id: 'agent',
    grants: ['authorization_code', 'refresh_token'],
    scopes: ['tools:read', 'tools:call', 'files:read', 'read'],
    redirectUris: [REDIRECT],
  },
  // May only ask for tokens for the notes API.
  {
    id: 'notes-only',
    grants: ['authorization_code', 'refresh_token'],
    scopes: ['read'],
    redirectUris: [REDIRECT],
    resources: [NOTES],
  },
  { id: 'machine', secret: 'machine-secret', grants: ['client_credentials'], scopes: ['tools:call', 'read'] },
];

function app(framework: Framework = 'express5', options: Partial<ServerOptions> = {}) {
  return buildCodeApp(framework, { resources: RESOURCES, ...options }, memoryStores({ clients: CLIENTS }));
}

/** An authorization request for `agent` naming these resources (repeated `resource`). */
function agentRequest(resources: string[], scope?: string) {
  const { verifier, challenge } = pkcePair();
  const params = {
    response_type: 'code',
    client_id: 'agent',
    redirect_uri: REDIRECT,
    scope,
    state: 'xyz',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };
  const url = authorizeUrl(params) + resources.map((r) => `&resource=${encodeURIComponent(r)}`).join('');
  return { url, verifier };
}

async function codeFor(target: Parameters<typeof request>[0], resources: string[], scope?: string) {
  const { url, verifier } = agentRequest(resources, scope);
  const res = await request(target).get(url).set(HOOK_HEADERS.user, 'user-alice');
  expect(res.status).toBe(302);
  const query = locationParams(res.headers.location);
  expect(query.get('error')).toBeNull();
  return { code: query.get('code') as string, verifier };
}

/** POST a form with repeated fields (supertest's object form cannot repeat a name). */
function postForm(target: Parameters<typeof request>[0], path: string, pairs: [string, string][], auth?: string) {
  const req = request(target).post(path).type('form');
  if (auth) req.set('Authorization', auth);
  return req.send(new URLSearchParams(pairs).toString());
}

function redeemCode(target: Parameters<typeof request>[0], code: string, verifier: string, resources: string[] = []) {
  return postForm(target, '/oauth/token', [
    ['grant_type', 'authorization_code'],
    ['client_id', 'agent'],
    ['code', code],
    ['redirect_uri', REDIRECT],
    ['code_verifier', verifier],
    ...resources.map((r): [string, string] => ['resource', r]),
  ]);
}

describe.each(FRAMEWORKS)('resource indicators under %s (RFC 8707)', (framework) => {
  const { app: server } = app(framework);

  test('a token requested for a resource has that resource as its aud (RFC 8707 §2, RFC 9068 §3)', async () => {
    const { code, verifier } = await codeFor(server, [MCP], 'tools:call');
    const res = await redeemCode(server, code, verifier, [MCP]);
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).payload.aud).toBe(MCP);
    expect(res.body.scope).toBe('tools:call');
  });

  test('several resources: aud lists them all; a token request may narrow to one of them (RFC 8707 §2.2)', async () => {
    const both = await codeFor(server, [MCP, FILES], 'tools:call files:read');
    const all = await redeemCode(server, both.code, both.verifier);
    expect(decodeJwt(all.body.access_token).payload.aud).toEqual([MCP, FILES]);

    const again = await codeFor(server, [MCP, FILES], 'tools:call files:read');
    const narrowed = await redeemCode(server, again.code, again.verifier, [FILES]);
    expect(narrowed.status).toBe(200);
    expect(decodeJwt(narrowed.body.access_token).payload.aud).toBe(FILES);
    // Only the scopes of the resource the token is for.
    expect(narrowed.body.scope).toBe('files:read');
  });

  test('a token request may not widen the resources of the code: invalid_target, 400, and the code still works (RFC 8707 §2.2)', async () => {
    const { code, verifier } = await codeFor(server, [MCP], 'tools:call');
    const widened = await redeemCode(server, code, verifier, [FILES]);
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe('invalid_target');
    expect(widened.headers['cache-control']).toBe('no-store');
    const ok = await redeemCode(server, code, verifier, [MCP]);
    expect(ok.status).toBe(200);
  });

  test('a code issued for no resource cannot be redeemed for one (RFC 8707 §2.2: never widen)', async () => {
    const { code, verifier } = await codeFor(server, [], 'read');
    const res = await redeemCode(server, code, verifier, [NOTES]);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
  });

  test('no resource asked: the token has the default audience (RFC 9068 §3)', async () => {
    const { code, verifier } = await codeFor(server, [], 'read');
    const res = await redeemCode(server, code, verifier);
    expect(decodeJwt(res.body.access_token).payload.aud).toBe(ISSUER);
  });

  test.each([
    ['an unknown resource', 'https://evil.example.com/mcp'],
    ['a relative URI', '/mcp'],
    ['a URI with a fragment', `${MCP}#frag`],
    ['not a URI', 'mcp server'],
  ])(
    'authorization request with %s: invalid_target sent to the redirect URI (RFC 8707 §2)',
    async (_name, resource) => {
      const { url } = agentRequest([resource], 'tools:call');
      const res = await request(server).get(url).set(HOOK_HEADERS.user, 'user-alice');
      expect(res.status).toBe(302);
      const query = locationParams(res.headers.location);
      expect(query.get('error')).toBe('invalid_target');
      expect(query.get('state')).toBe('xyz');
      expect(query.get('code')).toBeNull();
    },
  );

  test('a resource the client may not ask for is invalid_target (RFC 8707 §2, per-client resources)', async () => {
    const { challenge } = pkcePair();
    const url = authorizeUrl({
      response_type: 'code',
      client_id: 'notes-only',
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const refused = await request(server)
      .get(`${url}&resource=${encodeURIComponent(MCP)}`)
      .set(HOOK_HEADERS.user, 'user-alice');
    expect(locationParams(refused.headers.location).get('error')).toBe('invalid_target');
    const allowed = await request(server)
      .get(`${url}&resource=${encodeURIComponent(NOTES)}`)
      .set(HOOK_HEADERS.user, 'user-alice');
    expect(locationParams(allowed.headers.location).get('code')).toEqual(expect.any(String));
  });

  test('scopes are checked against the resource: a scope it does not define is invalid_scope; none asked gives the client defaults it defines', async () => {
    const { url } = agentRequest([MCP], 'files:read');
    const refused = await request(server).get(url).set(HOOK_HEADERS.user, 'user-alice');
    expect(locationParams(refused.headers.location).get('error')).toBe('invalid_scope');

    const { code, verifier } = await codeFor(server, [MCP]);
    const res = await redeemCode(server, code, verifier, [MCP]);
    expect(res.body.scope).toBe('tools:read tools:call');
  });

  test('the consent hook is shown the resources (RFC 8707)', async () => {
    const seen: unknown[] = [];
    const { app: withHook } = buildCodeApp(
      framework,
      {
        resources: RESOURCES,
        authorize: {
          authenticate: () => ({ id: 'user-alice' }),
          consent: (_req, _res, info) => (seen.push(info.resources), true),
        },
      },
      memoryStores({ clients: CLIENTS }),
    );
    await codeFor(withHook, [MCP, FILES], 'tools:call');
    expect(seen).toEqual([[MCP, FILES]]);
  });

  test('a POST authorization request may repeat resource too (RFC 8707 §2)', async () => {
    const { challenge } = pkcePair();
    const res = await postForm(server, '/oauth/authorize', [
      ['response_type', 'code'],
      ['client_id', 'agent'],
      ['redirect_uri', REDIRECT],
      ['scope', 'tools:call files:read'],
      ['code_challenge', challenge],
      ['code_challenge_method', 'S256'],
      ['resource', MCP],
      ['resource', FILES],
    ]).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(303);
    expect(locationParams(res.headers.location).get('code')).toEqual(expect.any(String));
  });

  test('the resume URL after sign-in keeps every resource (RFC 8707 §2)', async () => {
    const { url } = agentRequest([MCP, FILES], 'tools:call');
    const res = await request(server).get(url);
    expect(res.status).toBe(302);
    const next = decodeURIComponent(String(String(res.headers.location).split('next=')[1]));
    expect(new URLSearchParams(next.split('?')[1]).getAll('resource')).toEqual([MCP, FILES]);
  });

  test('refresh: resource is accepted again, may narrow but not widen; the refresh token keeps the grant (RFC 8707 §2.2)', async () => {
    const { code, verifier } = await codeFor(server, [MCP, FILES], 'tools:call files:read');
    const first = await redeemCode(server, code, verifier, [MCP]);
    expect(first.body.refresh_token).toEqual(expect.any(String));
    const refresh = (token: string, resources: string[]) =>
      postForm(server, '/oauth/token', [
        ['grant_type', 'refresh_token'],
        ['client_id', 'agent'],
        ['refresh_token', token],
        ...resources.map((r): [string, string] => ['resource', r]),
      ]);

    const same = await refresh(first.body.refresh_token, [MCP]);
    expect(same.status).toBe(200);
    expect(decodeJwt(same.body.access_token).payload.aud).toBe(MCP);
    // The narrowed exchange kept FILES in the family: a later refresh may still ask for it.
    const other = await refresh(same.body.refresh_token, [FILES]);
    expect(other.status).toBe(200);
    expect(decodeJwt(other.body.access_token).payload.aud).toBe(FILES);

    const widened = await refresh(other.body.refresh_token, [NOTES]);
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe('invalid_target');
  });

  test('client_credentials with resource: aud is the resource; an unknown one is invalid_target (RFC 8707 §2)', async () => {
    const ok = await postForm(
      server,
      '/oauth/token',
      [
        ['grant_type', 'client_credentials'],
        ['resource', MCP],
      ],
      basic('machine', 'machine-secret'),
    );
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.access_token).payload.aud).toBe(MCP);
    expect(ok.body.scope).toBe('tools:call');
    const bad = await postForm(
      server,
      '/oauth/token',
      [
        ['grant_type', 'client_credentials'],
        ['resource', 'https://elsewhere.example/'],
      ],
      basic('machine', 'machine-secret'),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_target');
  });

  test('a body already parsed by the framework may repeat resource as an array (RFC 8707 §2)', async () => {
    if (framework === 'connect') return;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require(framework);
    const pre = express();
    pre.use(express.urlencoded({ extended: false }));
    pre.use(app(framework).oauth);
    const res = await postForm(
      pre,
      '/oauth/token',
      [
        ['grant_type', 'client_credentials'],
        ['resource', MCP],
        ['resource', NOTES],
        ['scope', 'tools:call'],
      ],
      basic('machine', 'machine-secret'),
    );
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).payload.aud).toEqual([MCP, NOTES]);
  });

  test('introspection reports the aud of a resource token (RFC 7662 §2.2, RFC 8707)', async () => {
    const { app: withIntrospector } = buildCodeApp(
      framework,
      { resources: RESOURCES },
      memoryStores({
        clients: [
          ...CLIENTS,
          { id: 'rs', secret: 'rs-secret', grants: ['client_credentials'], scopes: [], resourceServer: true },
        ],
      }),
    );
    const { code, verifier } = await codeFor(withIntrospector, [MCP], 'tools:call');
    const token = (await redeemCode(withIntrospector, code, verifier)).body.access_token as string;
    const res = await postForm(withIntrospector, '/oauth/introspect', [['token', token]], basic('rs', 'rs-secret'));
    expect(res.body).toMatchObject({ active: true, aud: MCP });
  });
});

describe('audience checks of the guards (RFC 8707, RFC 9068 §4)', () => {
  for (const format of ['jwt', 'opaque'] as const) {
    test(`${format}: a token for a resource is refused by the default guard and by another resource's guard with invalid_token; accepted by its own`, async () => {
      const built = app('express5', { accessTokenFormat: format });
      const { app: server, oauth } = built;
      (server as unknown as { get: (...a: unknown[]) => void }).get(
        '/mcp',
        oauth.requireToken({ resource: MCP }),
        (_req: unknown, res: { end: (s: string) => void }) => res.end('mcp'),
      );
      (server as unknown as { get: (...a: unknown[]) => void }).get(
        '/files',
        oauth.requireToken({ resource: FILES }),
        (_req: unknown, res: { end: (s: string) => void }) => res.end('files'),
      );
      const { code, verifier } = await codeFor(server, [MCP], 'tools:call');
      const token = (await redeemCode(server, code, verifier)).body.access_token as string;

      expect((await request(server).get('/mcp').set('Authorization', `Bearer ${token}`)).status).toBe(200);
      for (const path of ['/files', '/api/me']) {
        const res = await request(server).get(path).set('Authorization', `Bearer ${token}`);
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      }
      // And a default-audience token is not accepted by the resource's guard.
      const plain = await codeFor(server, [], 'read');
      const plainToken = (await redeemCode(server, plain.code, plain.verifier)).body.access_token as string;
      expect((await request(server).get('/api/me').set('Authorization', `Bearer ${plainToken}`)).status).toBe(200);
      expect((await request(server).get('/mcp').set('Authorization', `Bearer ${plainToken}`)).status).toBe(401);
    });
  }

  test('a guard for a resource the server does not know is refused at start-up', () => {
    const { oauth } = app();
    expect(() => oauth.requireToken({ resource: 'https://unknown.example.com/' })).toThrow(/not in options.resources/);
    expect(() => oauth.requireToken({ resource: 'relative/path' })).toThrow(/not in options.resources/);
  });
});

describe('options.resources validation (RFC 8707 §2)', () => {
  const base = { issuer: ISSUER, logger: recordingLogger() };
  test.each([
    [{ '/relative': {} }, /absolute URI/],
    [{ 'https://a.example/#frag': {} }, /absolute URI without a fragment/],
    [{ 'https://a.example/': { scopes: ['bad scope'] } }, /scope tokens/],
    [['https://a.example/'], /object keyed by resource URI/],
  ])('%j is refused at start-up', (resources, message) => {
    expect(() => oauthServer(memoryStores({ clients: CLIENTS }), { ...base, resources: resources as never })).toThrow(
      message,
    );
  });
});

// `obtainCode` is the shared helper for single-resource cases elsewhere; keep it exercised here.
test('obtainCode works with a resource parameter (RFC 8707 §2)', async () => {
  const { app: server } = app();
  const { challenge } = pkcePair();
  const code = await obtainCode(server, {
    response_type: 'code',
    client_id: 'agent',
    redirect_uri: REDIRECT,
    resource: NOTES,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  expect(code).toEqual(expect.any(String));
});
