/**
 * Protected resource metadata (RFC 9728) and the resource's guard: discovery from nothing but
 * the resource URL, the challenges (RFC 9728 §5.1, RFC 6750 §3) and the audience rule
 * (RFC 8707), on the authorization server's app and on a standalone resource server.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { memoryStores, oauthServer, requireToken, type OAuthServer } from '../../src';
import { basic, decodeJwt, FRAMEWORKS, ISSUER, recordingLogger, type Framework } from '../support/spine';

const MCP = 'https://mcp.example.com/mcp';
const OTHER = 'https://other.example.com/mcp';
const ROOT_API = 'https://api.example.com/';
const METADATA_PATH = '/.well-known/oauth-protected-resource/mcp';
const SECRET = randomBytes(32);

const CLIENTS = [
  {
    id: 'machine',
    secret: 'machine-secret',
    grants: ['client_credentials' as const],
    scopes: ['tools:read', 'tools:call'],
  },
];

function server(): OAuthServer {
  return oauthServer(memoryStores({ clients: CLIENTS }), {
    issuer: ISSUER,
    logger: recordingLogger(),
    keys: [{ alg: 'HS256', secret: SECRET }],
    accessTokenLifetime: 60,
    resources: {
      [MCP]: { scopes: ['tools:read', 'tools:call'], name: 'Example MCP' },
      [OTHER]: { scopes: ['tools:call'] },
      [ROOT_API]: {},
    },
  });
}

function build(framework: Framework, oauth = server()) {
  const mcp = oauth.protectedResource({ resource: MCP, scope: 'tools:read' });
  const ok = (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('ok');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const app = framework === 'connect' ? require('connect')() : require(framework)();
  app.use(oauth);
  app.use(mcp.metadata);
  app.use(oauth.protectedResource({ resource: ROOT_API }).metadata);
  if (framework === 'connect') {
    app.use('/mcp/call', mcp.requireToken({ scope: 'tools:call' }));
    app.use('/mcp/call', ok);
    app.use('/mcp', mcp.requireToken());
    app.use('/mcp', ok);
  } else {
    app.post('/mcp/call', mcp.requireToken({ scope: 'tools:call' }), ok);
    app.all('/mcp', mcp.requireToken(), ok);
  }
  return { app, oauth, mcp };
}

async function tokenFor(
  app: Parameters<typeof request>[0],
  resource: string | undefined,
  scope: string,
): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope });
  if (resource) body.append('resource', resource);
  const res = await request(app)
    .post('/oauth/token')
    .type('form')
    .set('Authorization', basic('machine', 'machine-secret'))
    .send(body.toString());
  expect(res.status).toBe(200);
  return res.body.access_token;
}

describe.each(FRAMEWORKS)('oauth.protectedResource under %s (RFC 9728)', (framework) => {
  const { app, mcp } = build(framework);

  test('the metadata is served at the resource path inserted after /.well-known/oauth-protected-resource (RFC 9728 §3.1), as JSON, cacheable', async () => {
    const res = await request(app).get(METADATA_PATH);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(res.body).toEqual({
      resource: MCP,
      authorization_servers: [ISSUER],
      scopes_supported: ['tools:read', 'tools:call'],
      bearer_methods_supported: ['header'],
      resource_name: 'Example MCP',
    });
    expect(mcp.metadataUrl).toBe(`https://mcp.example.com${METADATA_PATH}`);
  });

  test('a resource without a path has its metadata right at /.well-known/oauth-protected-resource (RFC 9728 §3.1)', async () => {
    const res = await request(app).get('/.well-known/oauth-protected-resource');
    expect(res.status).toBe(200);
    expect(res.body.resource).toBe(ROOT_API);
    expect(res.body.scopes_supported).toBeUndefined();
  });

  test('authorization_servers[0] is the issuer exactly as the authorization server metadata spells it (RFC 9728 §2, RFC 8414 §3.3)', async () => {
    const as = await request(app).get('/.well-known/oauth-authorization-server');
    const prm = await request(app).get(METADATA_PATH);
    expect(prm.body.authorization_servers[0]).toBe(as.body.issuer);
  });

  test('the metadata document refuses other methods with 405 (RFC 9728 §3.1: GET)', async () => {
    const res = await request(app).post(METADATA_PATH);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  test('a request without a token: 401 with resource_metadata and the RFC 6750 realm, no error code (RFC 9728 §5.1, RFC 6750 §3.1)', async () => {
    const res = await request(app).post('/mcp');
    expect(res.status).toBe(401);
    const challenge = res.headers['www-authenticate'] as string;
    expect(challenge).toMatch(/^Bearer realm="[^"]+"/);
    expect(challenge).toContain(`resource_metadata="${mcp.metadataUrl}"`);
    expect(challenge).toContain('scope="tools:read"');
    expect(challenge).not.toContain('error=');
  });

  test('an invalid or expired token: 401 invalid_token with resource_metadata (RFC 9728 §5.1, RFC 6750 §3.1)', async () => {
    const expired = jwt.sign(
      { sub: 'machine', client_id: 'machine', scope: 'tools:read', jti: 'j1', aud: MCP, iss: ISSUER, iat: 1, exp: 2 },
      SECRET,
      {
        algorithm: 'HS256',
        keyid: decodeJwt(await tokenFor(app, MCP, 'tools:read')).header.kid as string,
        header: { alg: 'HS256', typ: 'at+jwt' },
      },
    );
    for (const token of ['not-a-token', expired]) {
      const res = await request(app).post('/mcp').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(res.headers['www-authenticate']).toContain(`resource_metadata="${mcp.metadataUrl}"`);
    }
  });

  test('a token minted for another resource is refused with invalid_token (RFC 8707, RFC 9068 §4)', async () => {
    const other = await tokenFor(app, OTHER, 'tools:call');
    const res = await request(app).post('/mcp').set('Authorization', `Bearer ${other}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    const plain = await tokenFor(app, undefined, 'tools:read');
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${plain}`)).status).toBe(401);
  });

  test('a token for the resource passes; one lacking a route scope gets 403 insufficient_scope naming it (RFC 6750 §3.1)', async () => {
    const token = await tokenFor(app, MCP, 'tools:read');
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const res = await request(app).post('/mcp/call').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('insufficient_scope');
    expect(res.headers['www-authenticate']).toContain('scope="tools:read tools:call"');
    expect(res.headers['www-authenticate']).toContain(`resource_metadata="${mcp.metadataUrl}"`);
    const both = await tokenFor(app, MCP, 'tools:read tools:call');
    expect((await request(app).post('/mcp/call').set('Authorization', `Bearer ${both}`)).status).toBe(200);
  });
});

test('oauth.protectedResource refuses a resource that is not in options.resources (RFC 8707: no token could be issued for it)', () => {
  expect(() => server().protectedResource({ resource: 'https://unknown.example.com/mcp' })).toThrow(
    /not in options.resources/,
  );
  expect(() => server().protectedResource({ resource: MCP, scope: 'bad"scope' })).toThrow(/scope token/);
});

describe('standalone requireToken({ resource }) (RFC 9728, RFC 8707)', () => {
  const { app: asApp } = build('express5');
  const guard = requireToken({
    issuer: ISSUER,
    secret: SECRET,
    resource: MCP,
    scope: 'tools:read',
    resourceName: 'Example MCP',
    logger: recordingLogger(),
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rs = require('express')();
  rs.use(guard.metadata);
  rs.post('/mcp', guard, (_req: unknown, res: http.ServerResponse) => res.end('ok'));

  test('serves the same metadata document at the same path (RFC 9728 §3.1)', async () => {
    const res = await request(rs).get(METADATA_PATH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      resource: MCP,
      authorization_servers: [ISSUER],
      scopes_supported: ['tools:read'],
      bearer_methods_supported: ['header'],
      resource_name: 'Example MCP',
    });
  });

  test('challenges carry resource_metadata; only tokens for its resource pass (RFC 9728 §5.1, RFC 8707)', async () => {
    const missing = await request(rs).post('/mcp');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toContain(`resource_metadata="${guard.metadataUrl}"`);
    expect(
      (
        await request(rs)
          .post('/mcp')
          .set('Authorization', `Bearer ${await tokenFor(asApp, MCP, 'tools:read')}`)
      ).status,
    ).toBe(200);
    const other = await request(rs)
      .post('/mcp')
      .set('Authorization', `Bearer ${await tokenFor(asApp, OTHER, 'tools:call')}`);
    expect(other.status).toBe(401);
    expect(other.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
