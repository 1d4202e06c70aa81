/**
 * What a team adopting tokengate sets up first works in a fresh project installing the packed
 * package, as a new user would (issue #17, "Done means"): a CommonJS project on Express 4 and
 * an ES module project on Express 5 each make a signing key with `npx tokengate keygen`, then
 * run an app (test/fixtures/adoption) with `errors: 'next'`, its own error handler, pino as the
 * logger and a listener on `oauth.events`. The app prints what happened as JSON; the tests
 * judge it. The package is packed once; everything else is linked from this repository's
 * node_modules (test/support/fresh-project.ts), so no registry is needed.
 */
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixtureFiles, freshProject, packTarball, type FreshProject, type Tarball } from '../support/fresh-project';

// Packing, two keygens and two app runs take seconds; more on a busy machine.
const SETUP_TIMEOUT = 120_000;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
}

interface Received {
  path: string;
  name: string;
  status: number;
  error: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** What the fixture app prints (test/fixtures/adoption/scenario.cjs). */
interface Facts {
  resolved: { tokengate: string; express: string };
  received: Received[];
  responses: Record<'wrongSecret' | 'noToken' | 'storeDown' | 'issued' | 'withToken' | 'jwks', Answer>;
  accessToken: string;
  clientSecret: string;
  events: { name: string; payload: Record<string, unknown> }[];
  logLines: (Record<string, unknown> & { level: number; msg: string })[];
}

interface Setup {
  label: string;
  type: 'commonjs' | 'module';
  links: Record<string, string>;
  entry: string;
  expressMajor: string;
  tokengateEntry: string;
}

const SETUPS: Setup[] = [
  {
    label: 'CommonJS + Express 4',
    type: 'commonjs',
    links: { express: 'express4' },
    entry: 'app.cjs',
    expressMajor: '4',
    tokengateEntry: 'node_modules/tokengate/dist/cjs/index.js',
  },
  {
    label: 'ES modules + Express 5',
    type: 'module',
    links: { express: 'express5' },
    entry: 'app.mjs',
    expressMajor: '5',
    tokengateEntry: 'node_modules/tokengate/dist/esm/index.mjs',
  },
];

const base64url = (part: string): Buffer => Buffer.from(part, 'base64url');
const decodePart = (part: string): Record<string, unknown> =>
  JSON.parse(base64url(part).toString('utf8')) as Record<string, unknown>;

let tarball: Tarball;

beforeAll(() => {
  tarball = packTarball();
}, SETUP_TIMEOUT);

afterAll(() => tarball?.remove());

describe.each(SETUPS)('a fresh project installing the packed package ($label)', (setup) => {
  let project: FreshProject;
  let keygen: { status: number | null; stdout: string; stderr: string };
  let facts: Facts;

  beforeAll(() => {
    project = freshProject(tarball, fixtureFiles('adoption'), setup.type, setup.links);
    // `--no`: the package's own bin or a failure, never a download of whatever the registry has.
    keygen = project.run('npx', ['--no', 'tokengate', 'keygen', '--alg', 'ES256']);
    if (keygen.status !== 0) throw new Error(`npx tokengate keygen failed (${keygen.status}): ${keygen.stderr}`);
    writeFileSync(join(project.dir, 'keys.json'), keygen.stdout); // npx tokengate keygen > keys.json
    const app = project.run(process.execPath, [setup.entry]);
    if (app.status !== 0) throw new Error(`node ${setup.entry} failed (${app.status}): ${app.stderr}`);
    facts = JSON.parse(app.stdout) as Facts;
  }, SETUP_TIMEOUT);

  afterAll(() => project?.remove());

  test(`the app runs the packed tokengate from its own node_modules, on Express ${setup.expressMajor}`, () => {
    const inProject = join(realpathSync(project.dir), setup.tokengateEntry);
    expect(facts.resolved.tokengate).toBe(setup.type === 'module' ? pathToFileURL(inProject).href : inProject);
    expect(facts.resolved.express.split('.')[0]).toBe(setup.expressMajor);
  });

  describe("errors: 'next' hands tokengate's errors to the app's Express error handler", () => {
    test('a wrong client secret arrives as 401 invalid_client with its Basic challenge, and the app renders it', () => {
      const [wrongSecret] = facts.received;
      expect(wrongSecret).toEqual({
        path: '/oauth/token',
        name: 'InvalidClient',
        status: 401,
        error: 'invalid_client',
        headers: expect.objectContaining({
          'WWW-Authenticate': expect.stringMatching(/^Basic realm="http:\/\/localhost"/),
          'Cache-Control': 'no-store',
        }),
        body: { error: 'invalid_client', error_description: expect.any(String) },
      });
      // What the client got is the app's rendering: its own member, tokengate's status and headers.
      const answer = facts.responses.wrongSecret;
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe(wrongSecret!.headers['WWW-Authenticate']);
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.body).toEqual({ ...wrongSecret!.body, rendered_by: 'app' });
    });

    test('a requireToken route called without a token arrives as 401 with the bare Bearer challenge', () => {
      expect(facts.received[1]).toEqual({
        path: '/api/me',
        name: 'TokenRequired',
        status: 401,
        error: '',
        headers: expect.objectContaining({ 'WWW-Authenticate': 'Bearer realm="http://localhost"' }),
        // RFC 6750 §3.1: a request without any token gets no error code.
        body: { error_description: expect.any(String) },
      });
      expect(facts.responses.noToken).toMatchObject({
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="http://localhost"' },
        body: { rendered_by: 'app' },
      });
    });

    test('a failing store arrives as a generic 500 server_error; successful requests never reach the handler', () => {
      expect(facts.received.map((r) => [r.path, r.status, r.error])).toEqual([
        ['/oauth/token', 401, 'invalid_client'],
        ['/api/me', 401, ''],
        ['/oauth/token', 500, 'server_error'],
      ]);
      expect(facts.responses.storeDown.status).toBe(500);
      expect(facts.responses.storeDown.body).toMatchObject({ error: 'server_error', rendered_by: 'app' });
      expect(JSON.stringify(facts.responses.storeDown.body)).not.toContain('client database');
    });
  });

  describe('pino as the logger', () => {
    test("the cause of a server_error is in pino's err: type, message and stack", () => {
      const errors = facts.logLines.filter((line) => line.level === 50);
      expect(errors).toEqual([
        expect.objectContaining({
          msg: expect.stringContaining('server_error'),
          err: expect.objectContaining({
            type: 'Error',
            message: 'client database unreachable: connection reset by peer',
            stack: expect.stringContaining('at Object.findClient'),
          }),
        }),
      ]);
    });

    test('a failed client authentication is an info line with the client id, method and reason', () => {
      expect(facts.logLines).toContainEqual(
        expect.objectContaining({
          level: 30,
          event: 'client.authentication_failed',
          clientId: 'web-app',
          method: 'client_secret_basic',
          reason: 'invalid_credentials',
        }),
      );
    });

    test('no line carries the token, the client secret or the wrong secret tried', () => {
      const text = JSON.stringify(facts.logLines);
      expect(facts.accessToken).toMatch(/^eyJ/);
      for (const secret of [facts.accessToken, facts.clientSecret, 'not-the-secret'])
        expect(text).not.toContain(secret);
    });
  });

  describe('oauth.events', () => {
    test('client.authentication_failed and token.issued fire with ids and reasons', () => {
      const [, payload] = facts.accessToken.split('.');
      expect(facts.events).toEqual([
        {
          name: 'client.authentication_failed',
          payload: {
            endpoint: 'token',
            clientId: 'web-app',
            method: 'client_secret_basic',
            reason: 'invalid_credentials',
          },
        },
        {
          name: 'token.issued',
          payload: {
            grantType: 'client_credentials',
            clientId: 'web-app',
            subject: 'web-app',
            scopes: ['read'],
            accessTokenId: decodePart(payload!).jti,
            refreshTokenIssued: false,
            tokenType: 'Bearer',
          },
        },
      ]);
    });

    test('no event carries the token or a secret', () => {
      const text = JSON.stringify(facts.events);
      for (const secret of [facts.accessToken, facts.clientSecret, 'not-the-secret'])
        expect(text).not.toContain(secret);
    });
  });

  describe('npx tokengate keygen', () => {
    test('prints a private ES256 JWK Set that loadKeys reads: the server serves its public half, and no warning', () => {
      const { keys } = JSON.parse(keygen.stdout) as { keys: (JsonWebKey & { kid: string; alg: string })[] };
      expect(keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', d: expect.any(String) })]);
      const { d: _d, ...publicHalf } = keys[0]!;
      expect(facts.responses.jwks.body).toEqual({ keys: [expect.objectContaining(publicHalf)] });
      expect(JSON.stringify(facts.responses.jwks.body)).not.toContain('"d"');
      // Without keys the server would sign with an ephemeral key and warn at start-up.
      expect(facts.logLines.filter((line) => line.level === 40)).toEqual([]);
    });

    test('a token the server signs with it verifies against the JWKS, and requireToken accepts it', () => {
      const [header, payload, signature] = facts.accessToken.split('.') as [string, string, string];
      const { kid } = (JSON.parse(keygen.stdout) as { keys: { kid: string }[] }).keys[0]!;
      expect(decodePart(header)).toMatchObject({ alg: 'ES256', kid });
      const jwks = facts.responses.jwks.body as { keys: (JsonWebKey & { kid: string })[] };
      const jwk = jwks.keys.find((k) => k.kid === kid);
      expect(jwk).toBeDefined();
      const key = createPublicKey({ key: jwk!, format: 'jwk' });
      const signed = Buffer.from(`${header}.${payload}`);
      expect(verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, base64url(signature))).toBe(true);
      expect(facts.responses.withToken).toMatchObject({ status: 200, body: { sub: 'web-app' } });
    });
  });
});
