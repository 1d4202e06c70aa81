/**
 * A throwaway PostgreSQL server per test file: initdb into a temp dir, start on a free local
 * port (its unix socket in the temp dir too), load the migration with psql, and stop and
 * delete everything at the end. Runs as the `postgres` user (or `nobody`) when we are root,
 * since initdb refuses root.
 *
 * Start-up is synchronous so a test file can decide at load time whether to run or skip:
 * skipping (with a loud message) happens only when no server can be started and CI is not
 * set; under CI=true the file fails instead.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { freePort } from './ports';

export const MIGRATION = join(__dirname, '../../migrations/postgres/001_tokengate.sql');

/** Every migration file, in order (001, 002, ...), as one script: the schema a deployment has. */
export function allMigrations(): Buffer {
  const dir = join(__dirname, '../../migrations/postgres');
  return Buffer.concat(
    readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => readFileSync(join(dir, f))),
  );
}

/** A running server: connect with {@link testPool}. */
export interface PgServer {
  config: { host: string; port: number; user: string; database: string };
  /** Stop the server and delete its directory (idempotent). */
  stop(): void;
}

/**
 * A pool on `server` (or on `port`, e.g. a proxy in front of it) of at most `max` clients. An
 * idle client cut off when the server stops or a test kills it emits 'error' on the pool;
 * without a listener that would crash the worker. The caller ends it.
 */
export function testPool(server: PgServer, max: number, port = server.config.port): Pool {
  const pool = new Pool({ ...server.config, port, max });
  pool.on('error', () => undefined);
  return pool;
}

function findBin(): string | undefined {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** uid/gid to run the server as: ourselves unless we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (id.status === 0 && gid.status === 0) return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  return undefined;
}

function run(bin: string, args: string[], options: SpawnSyncOptions): void {
  const result = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, ...options });
  if (result.status !== 0) {
    throw new Error(
      `${bin} ${args.join(' ')} failed (${result.status ?? result.signal}): ${String(result.stderr ?? '').trim() || String(result.stdout ?? '').trim() || result.error?.message}`,
    );
  }
}

/** Start a throwaway server, or say why none could be started. */
export function startPostgres(): PgServer | { error: string } {
  const bin = findBin();
  if (!bin)
    return {
      error: 'no initdb found under /usr/lib/postgresql/*/bin (apt-get install postgresql) and PG_BIN is not set',
    };
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-pg-'));
  const as = runAs();
  const asUser: SpawnSyncOptions = as ? { uid: as.uid, gid: as.gid, cwd: dir } : { cwd: dir };
  const data = join(dir, 'data');
  let started = false;
  const stop = (): void => {
    if (started) {
      spawnSync(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30'], {
        ...asUser,
        stdio: 'ignore',
        timeout: 40_000,
      });
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (as) chownSync(dir, as.uid, as.gid);
    run(
      join(bin, 'initdb'),
      ['-D', data, '-A', 'trust', '-U', 'tokengate', '-E', 'UTF8', '--no-locale', '--no-sync'],
      asUser,
    );
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && !started; attempt++) {
      const port = freePort();
      const settings = [
        `-p ${port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=60',
        '-c shared_buffers=16MB',
      ];
      try {
        run(
          join(bin, 'pg_ctl'),
          ['start', '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', settings.join(' ')],
          asUser,
        );
        started = true;
        // The migration goes in on stdin: the server's user may not be able to read our tree.
        run(
          join(bin, 'psql'),
          ['-h', dir, '-p', String(port), '-U', 'tokengate', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q'],
          { ...asUser, input: allMigrations() },
        );
        process.once('exit', stop); // if the worker dies before afterAll
        return { config: { host: '127.0.0.1', port, user: 'tokengate', database: 'postgres' }, stop };
      } catch (err) {
        lastError = err;
        if (started) throw err; // the server ran but the migration failed: a real error
      }
    }
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000) : '';
    throw new Error(`${lastError instanceof Error ? lastError.message : String(lastError)}\n${log}`);
  } catch (err) {
    stop();
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Start a server for a test file, or decide how to not run it: in CI a missing server fails
 * the file; elsewhere it is skipped with a loud message.
 */
export function postgresForTests(file: string): PgServer | undefined {
  const server = startPostgres();
  if ('config' in server) return server;
  const message = `PostgreSQL tests in ${file} cannot run: ${server.error}`;
  if (process.env.CI === 'true' || process.env.CI === '1')
    throw new Error(`${message} (CI is set, so this fails instead of skipping)`);
  const bar = '!'.repeat(100);
  console.warn(
    `${bar}\nSKIPPING ${message}\nInstall PostgreSQL (Debian: apt-get install postgresql) to run them; CI=true turns this skip into a failure.\n${bar}`,
  );
  return undefined;
}
