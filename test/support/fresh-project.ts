/**
 * A fresh consumer project around the packed package, for checks of what users get from
 * `npm install tokengate`: the tarball `npm pack` makes (exactly what `npm publish` uploads) is
 * unpacked as the project's `node_modules/tokengate`, its `bin` commands are linked into
 * `node_modules/.bin` as npm links them, and every other package the project imports (express,
 * pino, @types/*, peers such as express-oauth2-jwt-bearer) is linked from this repository's
 * node_modules, so no registry is needed. Needs `npm run build` first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** The TypeScript compilers a project can be checked with: the project's (7) and 5.9 (`typescript5`). */
export type TypeScript = 'typescript' | 'typescript5';

const TSC: Record<TypeScript, string> = {
  typescript: join(root, 'node_modules/typescript/bin/tsc'),
  typescript5: join(root, 'node_modules/typescript5/bin/tsc'),
};

/** A consumer project on disk. */
export interface FreshProject {
  readonly dir: string;
  /** Run `tsc -p <tsconfig>` plus `args` with one of the compilers; the exit status and its output. */
  tsc(tsconfig: string, typescript?: TypeScript, args?: string[]): { status: number | null; output: string };
  /** Run a command in the project (`node app.js`, `npx --no tokengate ...`); its exit status, stdout and stderr. */
  run(command: string, args: string[]): { status: number | null; stdout: string; stderr: string };
  /** Delete the project. */
  remove(): void;
}

/** The packed package: its path, and `remove()` to delete it. */
export interface Tarball {
  readonly path: string;
  remove(): void;
}

/** `npm pack` the package into a temporary folder. */
export function packTarball(): Tarball {
  if (!existsSync(join(root, 'dist/cjs/index.js')))
    throw new Error('dist/ is missing: run `npm run build` (npm test does it first).');
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-pack-'));
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [{ filename }] = JSON.parse(out) as [{ filename: string }];
  return { path: join(dir, filename), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A new project in a temporary folder: `package.json` (`type` as given), the files given
 * (paths relative to the project, e.g. copied from test/fixtures), tokengate unpacked from
 * `tarball` with its commands in `node_modules/.bin`, and links to this repository's other
 * installed packages. `links` installs a package under another name, as an alias of this
 * repository's: `{ express: 'express4' }` gives the project Express 4 as `express`.
 */
export function freshProject(
  tarball: Tarball,
  files: Record<string, string>,
  type: 'commonjs' | 'module' = 'commonjs',
  links: Record<string, string> = {},
): FreshProject {
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-consumer-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }, null, 2));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'tokengate'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball.path, '-C', join(modules, 'tokengate'), '--strip-components=1']);
  linkBins(modules, 'tokengate');
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name.startsWith('.') || name === 'tokengate' || name in links) continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name), 'dir');
  }
  for (const [name, target] of Object.entries(links))
    symlinkSync(join(root, 'node_modules', target), join(modules, name), 'dir');
  return {
    dir,
    tsc(tsconfig, typescript = 'typescript', args = []) {
      const run = spawnSync(process.execPath, [TSC[typescript], '-p', tsconfig, '--pretty', 'false', ...args], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
      });
      return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
    },
    run(command, args) {
      const run = spawnSync(command, args, { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      return { status: run.status, stdout: run.stdout, stderr: run.stderr };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Link an installed package's `bin` commands into `node_modules/.bin` and make them executable,
 * as npm does on install: `npx <command>` then finds them without a registry.
 */
function linkBins(modules: string, name: string): void {
  const { bin } = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  if (bin === undefined) return;
  const commands = typeof bin === 'string' ? { [name]: bin } : bin;
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const [command, file] of Object.entries(commands)) {
    chmodSync(join(modules, name, file), 0o755);
    symlinkSync(join('..', name, file), join(modules, '.bin', command));
  }
}

/** The files of a folder under test/fixtures, by their paths relative to it, to give to {@link freshProject}. */
export function fixtureFiles(folder: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (base: string, rel: string): void => {
    for (const entry of readdirSync(join(base, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(base, path);
      else files[path] = readFileSync(join(base, path), 'utf8');
    }
  };
  walk(join(root, 'test/fixtures', folder), '');
  return files;
}
