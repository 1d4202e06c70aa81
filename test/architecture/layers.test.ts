/**
 * The frame of the source tree (issue #12): `src/core/` is the base layer and imports nothing
 * above it; the top of `src/` holds only the server, its options and the entry points; there
 * is no import cycle, type-only imports included; and each subpath entry loads only what it
 * needs (the store adapters do not pull in the server, its options or its limits).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = join(__dirname, '../..');
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Relative module specifiers of a file: `import`, `import type`, `export ... from`. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+'(\.[^']*)'/g)].map((m) => m[1] as string);
}

/** The package's own modules and the packages that `require(entry)` loads, from dist/cjs. */
function loadedBy(entry: string): { own: string[]; packages: string[] } {
  const script = `
    const before = new Set(Object.keys(require.cache));
    require(${JSON.stringify(join(root, 'dist/cjs', `${entry}.js`))});
    console.log(JSON.stringify(Object.keys(require.cache).filter((k) => !before.has(k))));`;
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
  const own = loaded.filter((p) => !p.includes('node_modules')).map((p) => relative(join(root, 'dist/cjs'), p));
  const packages = [
    ...new Set(
      loaded
        .filter((p) => p.includes('node_modules'))
        .map((p) =>
          (p.split('node_modules/').pop() as string)
            .split('/')
            .slice(0, p.includes('node_modules/@') ? 2 : 1)
            .join('/'),
        ),
    ),
  ];
  return { own, packages };
}

describe('the base layer: src/core', () => {
  test('imports nothing above it (only other core modules and node: built-ins)', () => {
    const outside = sources(join(src, 'core')).flatMap((file) =>
      relativeImports(file)
        .filter((spec) => !resolve(join(file, '..'), spec).startsWith(join(src, 'core')))
        .map((spec) => `${relative(src, file)} -> ${spec}`),
    );
    expect(outside).toEqual([]);
  });

  test('the top of src/ holds only the server, its options and the entry points', () => {
    const top = readdirSync(src, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
    expect(top).toEqual([
      'cli.ts',
      'express.ts',
      'index.ts',
      'options.ts',
      'postgres.ts',
      'redis.ts',
      'server.ts',
      'testing.ts',
    ]);
  });
});

describe('import cycles', () => {
  test('madge finds no circular dependency in src, type-only imports included (npm run cycles)', () => {
    const run = (dir: string): unknown =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [join(root, 'scripts/madge.cjs'), '--circular', '--json', '--extensions', 'ts', dir],
          { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      );
    expect(run('src')).toEqual([]);
  });
});

describe('subpath entries load only what they need (from dist/cjs)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/cjs/index.js')))
      throw new Error('dist/ is missing: run `npm run build` (npm test does it first).');
  });

  // The server's options, limits, CORS and body parsing, and their packages, belong to the
  // server: a store adapter has no use for them (before the split, `tokengate/redis` loaded
  // 17 of the package's modules and 41 of other packages', only to get `consoleLogger`).
  const serverOnly = [
    /^options\.js$/,
    /^server\.js$/,
    /^limits\//,
    /^http\//,
    /^endpoints\//,
    /^grants\//,
    /^bearer\//,
    /^clients\//,
  ];

  // Each entry also carries its device authorization store (RFC 8628): +2 modules (the store and device/types).
  test.each([
    // redis 15: the token store's 10, redisClientStore (RFC 7591 registration) and the secret hashing it
    // needs, the replay store (DPoP / client assertion jtis), and the device store with device/types.
    ['redis', 15],
    // +1 the replay store, +2 the device store and device/types.
    ['postgres', 17],
  ])(
    'tokengate/%s loads at most %i of the package modules, none of the server, and no other package',
    (entry, most) => {
      const { own, packages } = loadedBy(entry as string);
      expect(own.filter((m) => serverOnly.some((re) => re.test(m)))).toEqual([]);
      expect(packages).toEqual([]);
      expect(own.length).toBeLessThanOrEqual(most as number);
    },
  );
});
