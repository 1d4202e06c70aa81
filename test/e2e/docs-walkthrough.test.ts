/**
 * The shell walkthroughs of the README and docs/ work when pasted: every `sh` block of each page
 * runs, in order, in one bash against the demo (`examples/basic/server.js`, what `npm start`
 * runs), and each block's output is what the page says it is.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo, type DemoProcess } from '../support/demo';

const root = join(__dirname, '..', '..');
/** Blocks that set the reader's machine up (clone, install, keys) are not part of a walkthrough. */
const SET_UP = /git clone|npm install|openssl/;

function shellBlocks(page: string): string[] {
  const text = readFileSync(join(root, page), 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string).filter((block) => !SET_UP.test(block));
}

/** Runs the blocks in one shell, the server's address in place of the documented one; the output of each block. */
function paste(blocks: string[], base: string): string[] {
  const script = blocks
    .map((block, i) => `echo '@@block ${i}'\n${block.replace('AS=http://localhost:3000', `AS=${base}`)}`)
    .join('\n');
  const out = execFileSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  return out.split(/^@@block \d+\n/m).slice(1);
}

let demo: DemoProcess;
let base = '';

beforeAll(async () => {
  demo = await startDemo();
  base = demo.url;
}, 30_000);

afterAll(() => demo?.stop());

test.each(['README.md', 'docs/getting-started.md', 'docs/discovery.md'])(
  '%s: no shell block holds a comment (zsh, the macOS default, would run it)',
  (page) => {
    for (const block of shellBlocks(page))
      expect(block.split('\n').filter((line) => /^\s*#|\s#\s/.test(line))).toEqual([]);
  },
);

test('README: the walkthrough captures tokens in shell variables, refreshes, and a replayed refresh token revokes the grant', () => {
  const out = paste(shellBlocks('README.md'), base);
  expect(out).toHaveLength(5);
  expect(out[1]).toBe('{"sub":"web-app","client_id":"web-app","scope":["read","write"]}\n');
  expect(out[2]).toBe('{"sub":"user-alice","client_id":"web-app","scope":["read","write"]}\n');
  expect(out[3]).toBe('{"sub":"user-alice","client_id":"web-app","scope":["read","write"]}\n');
  expect(out[4]).toMatch(
    /^\{"error":"invalid_grant",.*\}\nHTTP\/1\.1 401 Unauthorized\r\n[\s\S]*error="invalid_token"/,
  );
});

test('docs/getting-started.md: every grant from a terminal, the authorization code flow with sign-in and consent included', () => {
  const out = paste(shellBlocks('docs/getting-started.md'), base);
  expect(out).toHaveLength(10);
  expect(out[1]).toContain('"sub":"web-app"');
  expect(out[2]).toContain('"sub":"user-alice"');
  expect(out[4]).toMatch(/invalid_grant[\s\S]*401 Unauthorized/);
  expect(out[5]).toMatch(/^HTTP\/1\.1 401 Unauthorized[\s\S]*"error":"invalid_client"/);
  expect(out[7]).toMatch(new RegExp(`^${base}/client\\?code=[\\w-]+&state=xyz&iss=${encodeURIComponent(base)}\\n$`));
  expect(out[8]).toBe('{"sub":"user-alice","client_id":"demo-spa","scope":["read"]}\n');
  expect(out[9]).toMatch(/^\{"error":"invalid_grant",.*\}\n\{"error":"invalid_token",.*\}\n$/);
});

test('docs/discovery.md: metadata, JWKS, introspection, and revoking the refresh token ends the access token', () => {
  const gettingStarted = shellBlocks('docs/getting-started.md');
  // The page starts from the walkthrough's helper and its password-grant block.
  const out = paste(
    [gettingStarted[0] as string, gettingStarted[2] as string, ...shellBlocks('docs/discovery.md')],
    base,
  );
  const lines = (out[2] as string).split('\n');
  expect(JSON.parse(lines[0] as string)).toMatchObject({ issuer: base, token_endpoint: `${base}/oauth/token` });
  const { keys } = JSON.parse(lines[1] as string) as { keys: { kid?: string; alg?: string; use?: string }[] };
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys) expect(key).toMatchObject({ kid: expect.any(String), alg: expect.any(String), use: 'sig' });
  expect(JSON.parse(lines[2] as string)).toMatchObject({ active: true, sub: 'user-alice' });
  expect(out[2]).toContain('HTTP/1.1 200 OK');
  expect(lines.at(-2)).toBe('{"active":false}');
});
