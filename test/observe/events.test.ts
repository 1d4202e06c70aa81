/**
 * `oauth.events` (issue #17): each security-relevant moment fires its typed event with ids and
 * reasons, never a token, code, secret or password; a failing listener never breaks the
 * request; and an unobserved server does no event work (none at all on the requireToken path).
 */
import request from 'supertest';
import {
  memoryStores,
  memoryTokenStore,
  TemporarilyUnavailable,
  type OAuthServer,
  type TokengateEventName,
  type TokengateEvents,
} from '../../src';
import { EventHub } from '../../src/observe/events';
import { buildCodeApp, exchange, obtainCode, spaRequest } from '../support/authorization-code';
import { basic, buildApp, CLIENTS, decodeJwt, FRAMEWORKS, USERS } from '../support/spine';

const TOKEN = '/oauth/token';
const NAMES: TokengateEventName[] = [
  'token.issued',
  'token.refreshed',
  'token.revoked',
  'refresh_token.reuse_detected',
  'authorization_code.reuse_detected',
  'client.authentication_failed',
  'password.failed',
  'limit.reached',
  'client.registered',
  'client.updated',
  'client.deleted',
  'store.unavailable',
];

type Seen = { [K in TokengateEventName]: { name: K; event: TokengateEvents[K] } }[TokengateEventName];

/** Every event `oauth` emits, in order. */
function record(oauth: OAuthServer): Seen[] {
  const seen: Seen[] = [];
  for (const name of NAMES) oauth.events.on(name, (event) => void seen.push({ name, event } as Seen));
  return seen;
}

function of<K extends TokengateEventName>(seen: Seen[], name: K): TokengateEvents[K][] {
  return seen.filter((s) => s.name === name).map((s) => s.event as TokengateEvents[K]);
}

/** No token, code, secret or password among the payloads. */
function expectNoSecrets(seen: Seen[], values: (string | undefined)[]): void {
  const text = JSON.stringify(seen);
  for (const value of values) if (value !== undefined) expect(text).not.toContain(value);
}

const password = (app: Parameters<typeof request>[0], pw = 'wonderland', client = basic('web-app', 'web-secret')) =>
  request(app)
    .post(TOKEN)
    .set('Authorization', client)
    .type('form')
    .send({ grant_type: 'password', username: 'alice@example.com', password: pw, scope: 'read' });

const refresh = (app: Parameters<typeof request>[0], token: string) =>
  request(app)
    .post(TOKEN)
    .set('Authorization', basic('web-app', 'web-secret'))
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: token });

describe.each(FRAMEWORKS)('token events under %s', (framework) => {
  test('token.issued for each grant: grant type, client, subject, scopes, the access token id (jti) and family; never the token', async () => {
    const { app, oauth } = buildApp(framework);
    const seen = record(oauth);
    const cc = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'read' });
    const pw = await password(app);
    expect([cc.status, pw.status]).toEqual([200, 200]);
    const [machine, user] = of(seen, 'token.issued');
    expect(machine).toEqual({
      grantType: 'client_credentials',
      clientId: 'web-app',
      subject: 'web-app',
      scopes: ['read'],
      accessTokenId: decodeJwt(cc.body.access_token).payload.jti,
      refreshTokenIssued: false,
      tokenType: 'Bearer',
    });
    const claims = decodeJwt(pw.body.access_token).payload;
    expect(user).toEqual({
      grantType: 'password',
      clientId: 'web-app',
      subject: 'user-alice',
      scopes: ['read'],
      accessTokenId: claims.jti,
      familyId: claims.fid,
      refreshTokenIssued: true,
      tokenType: 'Bearer',
    });
    expect(Object.isFrozen(user)).toBe(true);
    expectNoSecrets(seen, [
      cc.body.access_token,
      pw.body.access_token,
      pw.body.refresh_token,
      'web-secret',
      'wonderland',
    ]);
  });
});

describe('token events', () => {
  test('a refresh fires token.issued (grant refresh_token) and token.refreshed with the family', async () => {
    const { app, oauth } = buildApp();
    const first = await password(app);
    const seen = record(oauth);
    const next = await refresh(app, first.body.refresh_token);
    expect(next.status).toBe(200);
    const fid = decodeJwt(first.body.access_token).payload.fid;
    const jti = decodeJwt(next.body.access_token).payload.jti;
    expect(seen.map((s) => s.name)).toEqual(['token.issued', 'token.refreshed']);
    expect(of(seen, 'token.issued')[0]).toMatchObject({
      grantType: 'refresh_token',
      familyId: fid,
      accessTokenId: jti,
    });
    expect(of(seen, 'token.refreshed')).toEqual([
      { clientId: 'web-app', subject: 'user-alice', familyId: fid, scopes: ['read'], accessTokenId: jti },
    ]);
    expectNoSecrets(seen, [first.body.refresh_token, next.body.refresh_token, next.body.access_token]);
  });

  test('refresh_token.reuse_detected when a rotated refresh token comes back; the family is revoked with it', async () => {
    const { app, oauth, logger } = buildApp();
    const first = await password(app);
    const next = await refresh(app, first.body.refresh_token);
    const seen = record(oauth);
    const replay = await refresh(app, first.body.refresh_token);
    expect(replay.status).toBe(400);
    const fid = decodeJwt(first.body.access_token).payload.fid;
    expect(of(seen, 'refresh_token.reuse_detected')).toEqual([
      { clientId: 'web-app', subject: 'user-alice', familyId: fid },
    ]);
    // The family is revoked: the successor's access token no longer works.
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${next.body.access_token}`)).status).toBe(
      401,
    );
    // A security incident is also a warning in the log, with its ids.
    expect(logger.lines).toContainEqual({
      level: 'warn',
      message: expect.stringMatching(
        /^a rotated refresh token was presented again; its family is revoked.*\[event=refresh_token\.reuse_detected clientId=web-app subject=user-alice familyId=/,
      ),
      detail: undefined,
    });
    expectNoSecrets(seen, [first.body.refresh_token, next.body.refresh_token, next.body.access_token]);
  });

  test('authorization_code.reuse_detected when a code is redeemed twice', async () => {
    const { app, oauth } = buildCodeApp();
    const { params, verifier } = spaRequest();
    const code = await obtainCode(app, params);
    const body = { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'spa' };
    const ok = await exchange(app, { ...body, redirect_uri: params.redirect_uri });
    expect(ok.status).toBe(200);
    const seen = record(oauth);
    expect((await exchange(app, { ...body, redirect_uri: params.redirect_uri })).status).toBe(400);
    expect(of(seen, 'authorization_code.reuse_detected')).toEqual([
      { clientId: 'spa', subject: 'user-alice', familyId: decodeJwt(ok.body.access_token).payload.fid },
    ]);
    expectNoSecrets(seen, [code, verifier, ok.body.access_token, ok.body.refresh_token]);
  });

  test('token.revoked: a refresh token names its family, an access token its jti (RFC 7009)', async () => {
    const { app, oauth } = buildApp();
    const a = await password(app);
    const b = await password(app);
    const seen = record(oauth);
    const revoke = (token: string) =>
      request(app)
        .post('/oauth/revoke')
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ token });
    expect((await revoke(a.body.refresh_token)).status).toBe(200);
    expect((await revoke(b.body.access_token)).status).toBe(200);
    expect((await revoke('not-a-token-at-all')).status).toBe(200);
    expect(of(seen, 'token.revoked')).toEqual([
      {
        clientId: 'web-app',
        tokenType: 'refresh_token',
        familyId: decodeJwt(a.body.access_token).payload.fid,
        reason: 'revocation_request',
      },
      {
        clientId: 'web-app',
        tokenType: 'access_token',
        tokenId: decodeJwt(b.body.access_token).payload.jti,
        reason: 'revocation_request',
      },
    ]);
    expectNoSecrets(seen, [a.body.refresh_token, b.body.access_token, 'not-a-token-at-all']);
  });

  test('an opaque access token is named by the id its record is stored under, not by the token', async () => {
    const { app, oauth } = buildApp('express5', { accessTokenFormat: 'opaque' });
    const seen = record(oauth);
    const res = await password(app);
    const [issued] = of(seen, 'token.issued');
    expect(issued?.accessTokenId).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{43}$/));
    expect(issued?.accessTokenId).not.toBe(res.body.access_token);
    expectNoSecrets(seen, [res.body.access_token, res.body.refresh_token]);
  });
});

describe('failure events', () => {
  test('client.authentication_failed says the endpoint, method, client id and reason; never the secret', async () => {
    const { app, oauth } = buildApp();
    const seen = record(oauth);
    const post = (fields: Record<string, string>, auth?: string) => {
      const r = request(app).post(TOKEN).type('form');
      if (auth) r.set('Authorization', auth);
      return r.send({ grant_type: 'client_credentials', ...fields });
    };
    await post({}, basic('web-app', 'not-the-secret'));
    await post({ client_id: 'ghost', client_secret: 'ghost-secret' });
    await post({});
    await post({ client_id: 'spa', client_secret: 'spa-made-this-up' });
    await request(app)
      .post('/oauth/introspect')
      .set('Authorization', basic('reader', 'wrong-reader'))
      .type('form')
      .send({ token: 'x' });
    expect(of(seen, 'client.authentication_failed')).toEqual([
      { endpoint: 'token', clientId: 'web-app', method: 'client_secret_basic', reason: 'invalid_credentials' },
      { endpoint: 'token', clientId: 'ghost', method: 'client_secret_post', reason: 'unknown_client' },
      { endpoint: 'token', reason: 'no_credentials' },
      { endpoint: 'token', clientId: 'spa', method: 'client_secret_post', reason: 'public_client_sent_secret' },
      { endpoint: 'introspection', clientId: 'reader', method: 'client_secret_basic', reason: 'invalid_credentials' },
    ]);
    expectNoSecrets(seen, ['not-the-secret', 'ghost-secret', 'spa-made-this-up', 'wrong-reader']);
  });

  test('password.failed names the client and username, never the password; limit.reached names the limit', async () => {
    const { app, oauth } = buildApp('express5', { bruteForce: { username: { points: 2 } } });
    const seen = record(oauth);
    expect((await password(app, 'guess-one')).status).toBe(400);
    expect((await password(app, 'guess-two')).status).toBe(400);
    const refused = await password(app, 'guess-three');
    expect(refused.status).toBe(429);
    expect(of(seen, 'password.failed')).toEqual([
      { clientId: 'web-app', username: 'alice@example.com' },
      { clientId: 'web-app', username: 'alice@example.com' },
    ]);
    expect(of(seen, 'limit.reached')).toEqual([
      { endpoint: 'token', limit: 'username', retryAfter: Number(refused.headers['retry-after']) },
    ]);
    expectNoSecrets(seen, ['guess-one', 'guess-two', 'guess-three', 'web-secret']);
  });

  test('store.unavailable when the token store cannot be reached; the request gets 503 and the cause is logged', async () => {
    const tokens = memoryTokenStore();
    tokens.save = async () => {
      throw new TemporarilyUnavailable('The token store is temporarily unavailable; try again shortly.', {
        'Retry-After': '1',
      });
    };
    const stores = { ...memoryStores({ clients: CLIENTS, users: USERS }), tokens };
    const { app, oauth, logger } = buildApp('express5', {}, stores);
    const seen = record(oauth);
    expect((await password(app)).status).toBe(503);
    expect(of(seen, 'store.unavailable')).toEqual([
      { endpoint: 'token', description: 'The token store is temporarily unavailable; try again shortly.' },
    ]);
    expect(logger.lines.map((l) => l.message)).toContain('token endpoint: temporarily_unavailable');
  });
});

describe('registration events (RFC 7591, RFC 7592)', () => {
  test('client.registered, client.updated and client.deleted carry the client id; never the secret or registration token', async () => {
    const stores = memoryStores({ clients: [], maxRegisteredClients: 5 });
    const { app, oauth } = buildCodeApp('express5', { registration: { open: true, perAddress: false } }, stores);
    const seen = record(oauth);
    const metadata = {
      redirect_uris: ['https://app.example.com/cb'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      client_name: 'Web',
    };
    const created = await request(app)
      .post('/oauth/register')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(metadata));
    expect(created.status).toBe(201);
    const { client_id: clientId, client_secret: secret, registration_access_token: token } = created.body;
    const path = new URL(created.body.registration_client_uri).pathname;
    const updated = await request(app)
      .put(path)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ ...metadata, client_id: clientId, client_secret: secret, client_name: 'Web 2' }));
    expect(updated.status).toBe(200);
    expect((await request(app).delete(path).set('Authorization', `Bearer ${token}`)).status).toBe(204);
    expect(seen).toEqual([
      {
        name: 'client.registered',
        event: { clientId, grantTypes: ['authorization_code'], confidential: true },
      },
      { name: 'client.updated', event: { clientId, grantTypes: ['authorization_code'], confidential: true } },
      { name: 'client.deleted', event: { clientId } },
    ]);
    expectNoSecrets(seen, [secret, token]);
  });
});

describe('listeners', () => {
  test('a listener that throws or rejects does not change the answer; the error is logged and the next listener still runs', async () => {
    const { app, oauth, logger } = buildApp();
    const after: string[] = [];
    oauth.events.on('token.issued', () => {
      throw new Error('listener bug');
    });
    oauth.events.on('token.issued', async () => {
      throw new Error('async listener bug');
    });
    oauth.events.on('token.issued', (e) => void after.push(e.clientId));
    const res = await password(app);
    expect(res.status).toBe(200);
    expect(after).toEqual(['web-app']);
    await new Promise((resolve) => setImmediate(resolve));
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => [l.message, (l.detail as Error).message])).toEqual([
      ['a listener of the "token.issued" event threw; the request went on [event=token.issued]', 'listener bug'],
      ['a listener of the "token.issued" event threw; the request went on [event=token.issued]', 'async listener bug'],
    ]);
  });

  test('once fires once; off removes a listener (also one added with once); listenerCount counts', async () => {
    const { app, oauth } = buildApp();
    const calls: string[] = [];
    const always = () => void calls.push('always');
    const one = () => void calls.push('once');
    const never = () => void calls.push('never');
    oauth.events.on('token.issued', always).once('token.issued', one).once('token.issued', never);
    oauth.events.off('token.issued', never);
    expect(oauth.events.listenerCount('token.issued')).toBe(2);
    await password(app);
    await password(app);
    expect(calls).toEqual(['always', 'once', 'always']);
    oauth.events.off('token.issued', always);
    expect(oauth.events.listenerCount('token.issued')).toBe(0);
    // @ts-expect-error: the event map types each listener; there is no such event
    expect(() => oauth.events.on('token.stolen', () => undefined)).not.toThrow();
    // @ts-expect-error: a token.issued payload has no access token
    oauth.events.on('token.issued', (e) => e.accessToken);
  });
});

describe('nothing is done for events nobody listens to', () => {
  afterEach(() => jest.restoreAllMocks());

  test('no listener: no event is emitted and the token response carries no event facts', async () => {
    const emit = jest.spyOn(EventHub.prototype, 'emit');
    const { app, oauth } = buildApp();
    const res = await password(app);
    expect(res.status).toBe(200);
    await password(app, 'wrong');
    expect(emit).not.toHaveBeenCalled();
    const issued = await oauth.context.issuer.issue({
      client: { id: 'web-app', grants: ['password'], scopes: ['read'] },
      grantType: 'password',
      sub: 'user-alice',
      scope: ['read'],
      refreshToken: false,
    });
    expect(Object.getOwnPropertySymbols(issued)).toEqual([]);
  });

  test('requireToken never asks the event hub, with or without listeners (its cache hits stay allocation-free)', async () => {
    const listening = jest.spyOn(EventHub.prototype, 'listening');
    const emit = jest.spyOn(EventHub.prototype, 'emit');
    const { app, oauth } = buildApp();
    record(oauth);
    const { access_token: token } = (await password(app)).body;
    listening.mockClear();
    emit.mockClear();
    for (let i = 0; i < 5; i++)
      expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await request(app).get('/api/write').set('Authorization', `Bearer ${token}`)).status).toBe(403);
    expect(listening).not.toHaveBeenCalled();
    expect(emit).not.toHaveBeenCalled();
  });
});
