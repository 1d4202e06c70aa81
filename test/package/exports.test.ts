/**
 * The published shape: `require('tokengate')` and `import 'tokengate'` resolve through the
 * package's `exports` to one module instance, with types for both.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import packageJson from '../../package.json';

const root = join(__dirname, '..', '..');
const pkg = packageJson as unknown as { exports: Record<string, unknown> };

describe('package exports (dual ESM/CJS)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/cjs/index.js')))
      throw new Error('dist/ is missing: run `npm run build` (npm test does it first).');
  });

  const modules = Object.keys(pkg.exports).filter((k) => typeof pkg.exports[k] === 'object');
  const files = Object.keys(pkg.exports).filter((k) => typeof pkg.exports[k] === 'string');

  test.each(modules)('%s has CJS, ESM and type files', (entry) => {
    const target = pkg.exports[entry] as {
      import: { types: string; default: string };
      require: { types: string; default: string };
    };
    for (const file of [target.import.types, target.import.default, target.require.types, target.require.default]) {
      expect(existsSync(join(root, file))).toBe(true);
    }
  });

  test.each(files)('%s points at a shipped file', (entry) => {
    expect(existsSync(join(root, pkg.exports[entry] as string))).toBe(true);
  });

  test('require and import give the same functions (one module instance)', () => {
    const script = `
      import { createRequire } from 'node:module';
      import * as esm from 'tokengate';
      const cjs = createRequire(import.meta.url)('tokengate');
      if (typeof esm.oauthServer !== 'function') throw new Error('no ESM oauthServer');
      if (esm.oauthServer !== cjs.oauthServer) throw new Error('two module instances');
      if (esm.memoryStores !== cjs.memoryStores) throw new Error('two module instances');
      console.log('ok');
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe('ok');
  });
  test('the packed package ships the source of every source map, and its LICENSE', () => {
    // `npm pack --dry-run` lists exactly what `npm publish` would upload (`files` + npm's defaults).
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const packed = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    expect(packed.has('LICENSE')).toBe(true);
    const maps = [...packed].filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const target = posix.normalize(posix.join(dirname(map), source));
        if (!packed.has(target)) missing.push(`${map} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
