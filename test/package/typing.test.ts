/**
 * The published types in a fresh TypeScript project (#17), compiled with `tsc --strict` and
 * `skipLibCheck: false` (so tokengate's own declaration files are checked too):
 * - next to express-oauth2-jwt-bearer, which declares `req.auth` on Express's global Request
 *   (tokengate used to declare it too, with another type: TS2717);
 * - under every `moduleResolution` in use: `node16` (CommonJS and ES modules) and `bundler`
 *   with TypeScript 7, and `node10`/`node` (which TypeScript 7 no longer has) with 5.9, where
 *   the subpath entries resolve through `typesVersions`;
 * - with wrong uses refused: Express-typed hooks through `tokengate/express`, Node-typed
 *   through `tokengate`, and key material that does not fit its `alg`
 *   (test/fixtures/typing/misuse.ts: an unused `@ts-expect-error` fails the build).
 */
import { fixtureFiles, freshProject, packTarball, type FreshProject, type Tarball } from '../support/fresh-project';

let tarball: Tarball;
let project: FreshProject;

// A compile takes seconds, more on a busy machine: each gets two minutes.
const COMPILE_TIMEOUT = 120_000;

beforeAll(() => {
  tarball = packTarball();
  project = freshProject(tarball, fixtureFiles('typing'));
}, COMPILE_TIMEOUT);

afterAll(() => {
  project?.remove();
  tarball?.remove();
});

describe('a fresh project using tokengate and express-oauth2-jwt-bearer compiles under tsc --strict', () => {
  test.each([
    ['node16', 'typescript'],
    ['bundler', 'typescript'],
    ['node10', 'typescript5'],
    ['node', 'typescript5'],
  ] as const)(
    'moduleResolution %s with %s',
    (resolution, typescript) => {
      const { status, output } = project.tsc(`tsconfig.${resolution}.json`, typescript, ['--strict']);
      expect({ status, output }).toEqual({ status: 0, output: '' });
    },
    COMPILE_TIMEOUT,
  );

  test(
    "the check can fail: a global req.auth of another type than the peer's is TS2717 there",
    () => {
      const { status, output } = project.tsc('tsconfig.clash.json', 'typescript', ['--strict']);
      expect(status).not.toBe(0);
      expect(output).toMatch(
        /error TS2717: Subsequent property declarations must have the same type\.\s+Property 'auth'/,
      );
    },
    COMPILE_TIMEOUT,
  );
});
