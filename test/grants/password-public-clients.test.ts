/**
 * The password grant (RFC 6749 §4.3) under RFC 9700 §2.4 ("MUST NOT be used"): it stays for
 * integrations that need it, but only for confidential clients unless
 * `passwordGrant.allowPublicClients` says otherwise, and every client using it is named in a
 * warning with the reason, once (clients come from a store, so: the first time each uses it).
 * Real HTTP under Express 4, Express 5 and Connect.
 */
import request from 'supertest';
import { memoryStores, type UserStore } from '../../src';
import { basic, buildApp, CLIENTS, FRAMEWORKS, USERS } from '../support/spine';

const TOKEN = '/oauth/token';
const LOGIN = { grant_type: 'password', username: 'alice@example.com', password: 'wonderland' };

/** Memory stores whose user store counts password checks. */
function countingStores() {
  const base = memoryStores({ clients: CLIENTS, users: USERS });
  const calls = { authenticate: 0 };
  const users: UserStore = {
    authenticate: (username, password) => {
      calls.authenticate++;
      return (base.users as UserStore).authenticate(username, password);
    },
  };
  return { stores: { ...base, users }, calls };
}

const passwordWarnings = (lines: { level: string; message: string }[]) =>
  lines.filter((l) => l.level === 'warn' && l.message.includes('password grant'));

describe.each(FRAMEWORKS)('the password grant and public clients under %s', (framework) => {
  test('a public client may not use the password grant by default: 400 unauthorized_client, no password checked (RFC 9700 §2.4)', async () => {
    const { stores, calls } = countingStores();
    const { app, logger } = buildApp(framework, {}, stores);
    const res = await request(app)
      .post(TOKEN)
      .type('form')
      .send({ ...LOGIN, client_id: 'spa' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
    expect(res.body.error_description).toContain('RFC 9700 §2.4');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.access_token).toBeUndefined();
    expect(calls.authenticate).toBe(0);
    expect(passwordWarnings(logger.lines)).toEqual([]);
  });

  test('a confidential client may, and is named once in a warning with the reason (RFC 9700 §2.4)', async () => {
    const { app, logger } = buildApp(framework);
    expect(passwordWarnings(logger.lines)).toEqual([]); // nothing at start-up: the option is off
    for (let i = 0; i < 3; i++)
      expect(
        (await request(app).post(TOKEN).set('Authorization', basic('web-app', 'web-secret')).type('form').send(LOGIN))
          .status,
      ).toBe(200);
    expect(
      (await request(app).post(TOKEN).set('Authorization', basic('reader', 'reader-secret')).type('form').send(LOGIN))
        .status,
    ).toBe(200);
    const warnings = passwordWarnings(logger.lines);
    expect(warnings.map((w) => w.message.match(/client "([^"]+)"/)?.[1])).toEqual(['web-app', 'reader']);
    for (const w of warnings) expect(w.message).toContain('RFC 9700 §2.4');
    expect(warnings[0]?.message).toContain('authorization code flow with PKCE');
  });

  test('passwordGrant.allowPublicClients lets public clients in, said at start-up and per client', async () => {
    const { app, logger } = buildApp(framework, { passwordGrant: { allowPublicClients: true } });
    const startUp = passwordWarnings(logger.lines);
    expect(startUp).toHaveLength(1);
    expect(startUp[0]?.message).toContain('allowPublicClients is on');
    for (let i = 0; i < 2; i++)
      expect(
        (
          await request(app)
            .post(TOKEN)
            .type('form')
            .send({ ...LOGIN, client_id: 'spa' })
        ).status,
      ).toBe(200);
    const perClient = passwordWarnings(logger.lines).slice(1);
    expect(perClient).toHaveLength(1);
    expect(perClient[0]?.message).toContain('public client (allowed by passwordGrant.allowPublicClients) "spa"');
  });
});

describe('passwordGrant option validation', () => {
  test('allowPublicClients must be a boolean, checked at start-up', () => {
    expect(() => buildApp('express5', { passwordGrant: { allowPublicClients: 'yes' as unknown as boolean } })).toThrow(
      /passwordGrant\.allowPublicClients must be true or false/,
    );
  });
});
