/**
 * Keys without ceremony (issue 17): `npx tokengate keygen` prints a key set the server accepts
 * through `loadKeys`, and a server restarted with the same set keeps accepting the tokens it
 * issued before (what the ephemeral default cannot do).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import request from 'supertest';
import { generateKeys, loadKeys, memoryStores, oauthServer, type SigningAlgorithm } from '../../src';
import { basic, CLIENTS, decodeJwt, ISSUER } from '../support/spine';

const run = promisify(execFile);
const CLI = join(__dirname, '../../dist/cjs/cli.js');

async function keygen(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, 'keygen', ...args]);
}

/** A fresh server on `keys`, as after a restart: nothing shared with any earlier instance. */
function server(keys: ReturnType<typeof loadKeys>) {
  const oauth = oauthServer(memoryStores({ clients: CLIENTS }), { issuer: ISSUER, keys });
  const app = express();
  app.use(oauth);
  app.get('/api', oauth.requireToken(), (_req, res) => res.json({ ok: true }));
  return app;
}

async function clientToken(app: express.Express): Promise<string> {
  const res = await request(app)
    .post('/oauth/token')
    .set('Authorization', basic('web-app', 'web-secret'))
    .type('form')
    .send({ grant_type: 'client_credentials' });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

describe('tokengate keygen and loadKeys', () => {
  test('package.json bin "tokengate" is a shipped, executable node script (so `npx tokengate keygen` runs it)', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
      bin: Record<string, string>;
      files: string[];
    };
    expect(pkg.bin.tokengate).toBe('./dist/cjs/cli.js');
    expect(pkg.files).toContain('dist');
    expect(readFileSync(join(__dirname, '../..', pkg.bin.tokengate as string), 'utf8')).toMatch(
      /^#!\/usr\/bin\/env node\n/,
    );
  });

  test.each(['ES256', 'ES384', 'RS256', 'PS256', 'HS256'] as SigningAlgorithm[])(
    '%s: the printed key set signs, and a restarted server accepts the tokens',
    async (alg) => {
      const { stdout, stderr } = await keygen('--alg', alg, '--kid', `k-${alg}`);
      const set = JSON.parse(stdout) as { keys: Record<string, unknown>[] };
      expect(set.keys).toHaveLength(1);
      expect(set.keys[0]).toMatchObject({ kid: `k-${alg}`, alg, use: 'sig' });
      expect(stderr).toMatch(/public JWK Set/);
      if (alg !== 'HS256') expect(JSON.parse(stderr.slice(stderr.indexOf('{'))).keys[0]).not.toHaveProperty('d');

      const token = await clientToken(server(loadKeys(stdout)));
      expect(decodeJwt(token).header).toMatchObject({ kid: `k-${alg}`, alg });
      const restarted = server(loadKeys(stdout));
      await request(restarted).get('/api').set('Authorization', `Bearer ${token}`).expect(200);
      if (alg !== 'HS256') {
        const jwks = await request(restarted).get('/oauth/jwks').expect(200);
        expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([`k-${alg}`]);
        expect(jwks.body.keys[0]).not.toHaveProperty('d');
      }
    },
  );

  test('a rotation: the new key signs, tokens of the previous key stay valid until they expire', async () => {
    const old = generateKeys({ kid: 'old' });
    const oldToken = await clientToken(server(old.keys));
    const next = generateKeys({ kid: 'new' });
    // The new key first (it signs); the old one as a public key (verify only).
    const rotated = server(loadKeys({ keys: [...next.privateJwks.keys, ...old.publicJwks.keys] }));
    expect(decodeJwt(await clientToken(rotated)).header.kid).toBe('new');
    await request(rotated).get('/api').set('Authorization', `Bearer ${oldToken}`).expect(200);
  });

  test('--out writes the private set with mode 0600, prints the public set, and never overwrites without --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokengate-keygen-'));
    const file = join(dir, 'keys.json');
    const { stdout } = await keygen('--out', file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(stdout).keys[0]).not.toHaveProperty('d');
    expect(loadKeys(file)).toHaveLength(1); // a path works as well as the JSON text
    const before = readFileSync(file, 'utf8');
    await expect(keygen('--out', file)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/exists; add --force/),
    });
    expect(readFileSync(file, 'utf8')).toBe(before);
    await keygen('--out', file, '--force');
    expect(readFileSync(file, 'utf8')).not.toBe(before);
  });

  test('--pem prints a PKCS#8 key the keys option takes as it is', async () => {
    const { stdout } = await keygen('--pem', '--kid', 'pem-key');
    expect(stdout).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const token = await clientToken(server([{ kid: 'pem-key', alg: 'ES256', privateKey: stdout }]));
    expect(decodeJwt(token).header.kid).toBe('pem-key');
  });

  test('bad input: a clear message and exit code 2, never key material in the message', async () => {
    await expect(keygen('--alg', 'none')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/alg must be one of/),
    });
    await expect(keygen('--bogus')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown option --bogus/),
    });
    await expect(keygen('--alg', 'HS256', '--pem')).rejects.toMatchObject({ code: 2 });
    const secretish = '{"keys": [{"kty":"EC","d":"c2VjcmV0LWtleS1tYXRlcmlhbA"';
    expect(() => loadKeys(secretish)).toThrow(/not a JSON JWK Set/);
    try {
      loadKeys(secretish);
    } catch (err) {
      expect((err as Error).message).not.toContain('c2VjcmV0');
    }
    expect(() => loadKeys({ keys: [] })).toThrow(/at least one key/);
    expect(() => loadKeys({ keys: [{ kty: 'EC', kid: 'x' } as never] })).toThrow(/needs "alg"/);
    const { privateJwks } = generateKeys({ alg: 'ES256', kid: 'ec' });
    expect(() => loadKeys({ keys: [{ ...privateJwks.keys[0]!, alg: 'HS256' }] })).toThrow(/HS256 key must be "oct"/);
  });

  test('a key file written by hand with a wrong key type is refused at start-up', () => {
    const { privateJwks } = generateKeys({ alg: 'RS256', kid: 'rsa' });
    const wrong = { keys: [{ ...privateJwks.keys[0], alg: 'ES256' as const }] };
    const dir = mkdtempSync(join(tmpdir(), 'tokengate-keygen-'));
    writeFileSync(join(dir, 'k.json'), JSON.stringify(wrong));
    expect(() =>
      oauthServer(memoryStores({ clients: CLIENTS }), { issuer: ISSUER, keys: loadKeys(join(dir, 'k.json')) }),
    ).toThrow(/EC key on curve P-256/);
  });
});
