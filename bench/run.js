/**
 * `npm run bench` — the benchmark harness of issue 5.
 *
 * Every contender is its own server process on 127.0.0.1 (pinned to CPU 0 when `taskset` is
 * there); one load-generator process (pinned to CPU 1) drives them with autocannon. The
 * contenders run in short slices, interleaved: a warm-up round (discarded), then N rounds in
 * which every contender gets one slice, in an order rotated each round, so machine drift
 * (other people's tests on this shared box) hits all of them alike. Ratios are taken per
 * round — contender vs ceiling of the same round — and their median and spread reported.
 *
 * Also measured: server CPU time per request (from `/proc`, outside the server), server RSS,
 * and the cache's memory per token (`bench/memory.js`, in a fresh process). Results are
 * printed and written to `bench/results/` (`latest.{json,md}` for full runs, `latest-quick.*`
 * for `--quick`); `--update-readme` also refreshes the generated part of the README's
 * performance section.
 *
 * Usage: `npm run bench [-- --quick] [-- --rounds N --duration S --warmup S --connections N]
 *         [-- --only id,id] [-- --update-readme]`; `node bench/run.js --update-readme --from-latest`
 *         re-renders the README table from `bench/results/latest.json` without running.
 * @packageDocumentation
 */
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { contenders: allContenders, targets } = require('./contenders');
const report = require('./lib/report');
const { dpopHeaders } = require('./servers/common');

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(__dirname, 'results');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    only: { type: 'string' },
    'update-docs': { type: 'boolean', default: false },
    // Kept as an alias: the generated table moved from the README to docs/performance.md.
    'update-readme': { type: 'boolean', default: false },
    'from-latest': { type: 'boolean', default: false },
  },
});

/** Slice lengths: full ≈ 4 minutes, quick ≈ 1 minute (wall time, including set-up, on an idle machine). */
const settings = {
  // Many short slices beat a few long ones on a shared machine: each ratio pairs slices
  // seconds apart, and the median of more rounds shrugs off a neighbour's burst.
  rounds: Number(args.rounds ?? (args.quick ? 3 : 6)),
  durationSeconds: Number(args.duration ?? (args.quick ? 0.5 : 1)),
  warmupSeconds: Number(args.warmup ?? (args.quick ? 0.2 : 0.3)),
  // The discarded first round: long enough for the JIT to settle and caches to fill.
  initialWarmupSeconds: args.quick ? 0.6 : 2,
  // Enough to keep one Node core busy; more only adds queueing latency.
  connections: Number(args.connections ?? 10),
  memoryTokens: 100_000,
};

const only = args.only ? new Set(args.only.split(',')) : undefined;
/** Contenders that need a redis-server run only where there is one (said so in the report). */
const redisBinary = (() => {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'redis-server');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
})();
const skipped = allContenders.filter((c) => c.needs === 'redis' && !redisBinary && (!only || only.has(c.id)));
const contenders = allContenders.filter((c) => (!only || only.has(c.id)) && !skipped.includes(c));

// ---------------------------------------------------------------------------------------------
// Processes

/** CPU pinning: server on CPU 0, load generator (and this harness) on CPU 1. */
const pinning = (() => {
  if (os.cpus().length < 2) return undefined;
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return { server: '0', loadgen: '1' };
  } catch {
    return undefined;
  }
})();

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();

/**
 * Start a Node script with an IPC channel, pinned to `cpu` when pinning is available
 * (`taskset` execs node, so the pid and the channel are node's).
 * @param {string | undefined} cpu
 * @param {string[]} argv
 * @param {string[]} [nodeFlags]
 */
function startNode(cpu, argv, nodeFlags = [], env = process.env) {
  const command = [process.execPath, ...nodeFlags, ...argv];
  const child =
    cpu === undefined
      ? spawn(command[0], command.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: ROOT, env })
      : spawn('taskset', ['-c', cpu, ...command], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: ROOT, env });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/**
 * The next IPC message of `child` that `match` accepts.
 * @param {import('node:child_process').ChildProcess} child
 * @param {(m: any) => boolean} match
 * @param {number} timeoutMs
 * @param {string} what
 * @returns {Promise<any>}
 */
function nextMessage(child, match, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}`)), timeoutMs);
    const onMessage = (/** @type {any} */ m) => match(m) && done(undefined, m);
    const onExit = (/** @type {number | null} */ code) => done(new Error(`${what}: process exited (code ${code})`));
    function done(/** @type {Error | undefined} */ err, /** @type {any} */ value) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Stop every process this harness started (each by its own pid), then exit paths clean up. */
function stopAll() {
  for (const child of children) {
    if (child.connected) child.disconnect();
    child.kill('SIGTERM');
  }
}
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

// ---------------------------------------------------------------------------------------------
// Machine readings

/**
 * CPU time of the whole machine (all cores) in seconds from /proc/stat: `busy` (processes and
 * interrupts) and `steal` (time a virtual machine's CPUs waited for the host).
 */
function machineSeconds() {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return { busy: (user + nice + system + irq + softirq) / CLK_TCK, steal: steal / CLK_TCK };
  } catch {
    return { busy: NaN, steal: NaN };
  }
}

/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds used so far by a process of ours. @param {number | undefined} pid */
function processSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** @param {string} name */
function versionOf(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted src changes` : head;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Contenders

/**
 * A request to a contender outside any measurement (sanity checks): its status, and the
 * bytes of the response as they went over the wire (status line, headers, body).
 * @param {number} port
 * @param {{ method: string, path: string, headers?: Record<string, string>, body?: string }} req
 * @returns {Promise<{ status: number, bytes: number, headers: string[] }>}
 */
function probeBytes(port, req) {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.path, headers: req.headers },
      (res) => {
        let bytes = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`.length + 2;
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          bytes += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`.length;
        res.on('data', (chunk) => (bytes += chunk.length));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            bytes,
            headers: res.rawHeaders
              .filter((_, i) => i % 2 === 0)
              .map((h) => h.toLowerCase())
              .sort(),
          }),
        );
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** @param {number} port @param {{ method: string, path: string, headers?: Record<string, string>, body?: string }} req */
async function probe(port, req) {
  return (await probeBytes(port, req)).status;
}

/**
 * Mint single-use tokens for a slice of a `mint` contender; the file is fresh every time.
 * @param {any} running
 * @param {number} count
 * @param {string} tag
 */
async function mint(running, count, tag) {
  const file = path.join(running.tmp, `${running.contender.id}-${tag}.txt`);
  running.child.send({ type: 'mint', count, file });
  await nextMessage(
    running.child,
    (m) => m && m.type === 'minted' && m.file === file,
    120_000,
    `${running.contender.id} mint`,
  );
  return file;
}

/**
 * The request spec of one slice, with the token pool file in place.
 * @param {any} running
 * @param {string} tag
 */
async function sliceRequest(running, tag) {
  const { contender } = running;
  if (!contender.request.tokens) return { request: contender.request, poolSize: Infinity };
  if (!contender.mint)
    return {
      request: { ...contender.request, tokens: { ...contender.request.tokens, file: running.pool } },
      poolSize: Infinity,
    };
  // Single-use tokens: enough for warm-up plus measurement at 1.5× the fastest rate any
  // contender of the group has reached so far (its ceiling runs first), or a generous first
  // guess. Running out shows as failed requests and is reported; tokens left over stay in
  // the store, so the margin is kept modest.
  const best = Math.max(...running.group.map((/** @type {any} */ r) => r.bestRps));
  const rate = best > 0 ? 1.5 * best : 15_000;
  const seconds = running.nextWarmup + running.nextDuration;
  const poolSize = Math.ceil(rate * seconds) + 50 * settings.connections;
  const file = await mint(running, poolSize, tag);
  return { request: { ...contender.request, tokens: { ...contender.request.tokens, file } }, poolSize, file };
}

/**
 * Before measuring, prove the contender does what it claims: a valid request succeeds; for
 * guards, a forged token is refused; for refresh, a token cannot be redeemed twice.
 * @param {any} running
 */
async function sanityCheck(running) {
  const { contender } = running;
  const request = contender.request;
  let token;
  if (request.tokens) {
    const file = contender.mint ? await mint(running, 1, 'sanity') : running.pool;
    token = fs.readFileSync(file, 'utf8').split('\n')[0];
    if (contender.mint) fs.rmSync(file, { force: true });
  }
  const withToken = (/** @type {string | undefined} */ t) => {
    if (!request.tokens || t === undefined) return request;
    if (request.tokens.as === 'bearer')
      return { ...request, headers: { ...request.headers, authorization: `Bearer ${t}` } };
    if (request.tokens.as === 'dpop') return { ...request, headers: { ...request.headers, ...dpopHeaders(t) } };
    return { ...request, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(t)}` };
  };
  const answer = await probeBytes(running.port, withToken(token));
  const status = answer.status;
  if (status !== contender.sanity.status)
    throw new Error(`${contender.id}: a valid request got ${status}, expected ${contender.sanity.status}`);
  running.responseBytes = answer.bytes;
  running.responseHeaders = answer.headers;
  if (contender.sanity.reuse !== undefined) {
    // Single use is real: the token just redeemed is refused the second time.
    const again = await probe(running.port, withToken(token));
    if (again !== contender.sanity.reuse)
      throw new Error(`${contender.id}: a reused token got ${again}, expected ${contender.sanity.reuse}`);
  }
  if (contender.sanity.bad !== undefined) {
    const forged = await probe(running.port, withToken('forged-token.abc.def'));
    if (forged !== contender.sanity.bad)
      throw new Error(`${contender.id}: a forged token got ${forged}, expected ${contender.sanity.bad}`);
  }
}

/**
 * The slices of one round. Within each group (GET, POST) the ceiling runs between every two
 * contenders — C a C b C c C — so each contender is measured right between two ceiling
 * slices a couple of seconds away, and its throughput is taken relative to their mean. This
 * machine's speed drifts and jumps within seconds (a shared VM), so a ceiling measured once
 * per round would pair slices too far apart. The contenders' order rotates from round to
 * round and the groups swap places, so no contender always follows the same neighbour. The
 * warm-up round (0) runs everything once, in order.
 * @template {{ contender: import('./contenders').Contender }} R
 * @param {R[]} running
 * @param {number} round
 * @returns {R[]}
 */
function roundOrder(running, round) {
  if (round === 0) return running;
  const blocks = ['get', 'post'].map((group) => {
    const members = running.filter((r) => r.contender.group === group);
    const ceiling = members.find((r) => r.contender.ceiling === undefined);
    const others = members.filter((r) => r.contender.ceiling !== undefined);
    const shift = others.length ? round % others.length : 0;
    const rotated = [...others.slice(shift), ...others.slice(0, shift)];
    return ceiling ? [ceiling, ...rotated.flatMap((r) => [r, ceiling])] : rotated;
  });
  return (round % 2 === 0 ? blocks.reverse() : blocks).flat();
}

// ---------------------------------------------------------------------------------------------
// The run

async function main() {
  try {
    require.resolve('tokengate');
  } catch {
    throw new Error('bench: the built package is missing; run `npm run build` (npm run bench does it for you).');
  }
  const started = Date.now();
  const loadavgBefore = os.loadavg();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-bench-'));
  if (pinning) execFileSync('taskset', ['-pc', pinning.loadgen, String(process.pid)], { stdio: 'ignore' });
  console.log(
    `tokengate bench (${args.quick ? 'quick' : 'full'}): ${contenders.length} contenders, ${settings.rounds} rounds × ${settings.durationSeconds} s, ` +
      `${pinning ? `servers on CPU ${pinning.server}, load generator on CPU ${pinning.loadgen}` : 'no CPU pinning (taskset or a 2nd core missing)'}; ` +
      `load average ${loadavgBefore.map((x) => x.toFixed(2)).join(' ')}`,
  );

  // Set-up, in parallel: the servers (CPU 0) and the memory probes (CPU 1, idle until the
  // load generator starts).
  const memoryRuns = (async () => {
    if (only) return {};
    /** @type {Record<string, any>} */
    const out = {};
    for (const format of ['jwt', 'opaque']) {
      out[format] = await new Promise((resolve, reject) => {
        const child = spawn(
          pinning ? 'taskset' : process.execPath,
          [
            ...(pinning ? ['-c', pinning.loadgen, process.execPath] : []),
            '--expose-gc',
            path.join(__dirname, 'memory.js'),
            format,
            String(settings.memoryTokens),
          ],
          {
            cwd: ROOT,
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        children.add(child);
        let stdout = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.on('exit', (code) => {
          children.delete(child);
          if (code === 0) resolve({ ...JSON.parse(stdout), count: settings.memoryTokens });
          else reject(new Error(`bench/memory.js ${format} exited with ${code}`));
        });
      });
    }
    const small = await storeMemory(1000);
    const big = await storeMemory(args.quick ? 200_000 : 1_000_000);
    out.store = { small, big, loadRatio: small.loadMs / big.loadMs };
    return out;
  })();

  // One redis-server for the contenders that need it, on the load generator's core (what a
  // separate Redis host would be), no persistence, stopped with everything else.
  const redisPort = contenders.some((c) => c.needs === 'redis') ? await startRedis(tmp) : undefined;
  const env = redisPort === undefined ? process.env : { ...process.env, TOKENGATE_BENCH_REDIS_PORT: String(redisPort) };
  const running = await Promise.all(
    contenders.map(async (contender) => {
      const [file, ...serverArgs] = contender.server;
      const child = startNode(
        pinning?.server,
        [path.join(__dirname, 'servers', file), serverArgs[0] ?? '', tmp, ...serverArgs.slice(1)],
        ['--expose-gc'],
        env,
      );
      const ready = await nextMessage(child, (m) => m && m.type === 'ready', 900_000, `${contender.id} start-up`);
      return {
        contender,
        child,
        pid: child.pid,
        port: ready.port,
        pool: ready.pool,
        tmp,
        bestRps: 0,
        nextWarmup: 0,
        nextDuration: 0,
        group: [],
        responseBytes: NaN,
        responseHeaders: [],
      };
    }),
  );
  for (const r of running) r.group = running.filter((other) => other.contender.group === r.contender.group);
  for (const r of running) await sanityCheck(r);
  /** @type {string[]} */
  const problems = skipped.map((c) => `${c.id} not run: no redis-server on PATH`);
  problems.push(...compareBytes(running));
  const memory = await memoryRuns;
  const setupSeconds = (Date.now() - started) / 1000;
  console.log(`set-up done in ${setupSeconds.toFixed(0)} s (servers, fixtures, sanity checks, cache memory probe)`);

  const loadgen = startNode(pinning?.loadgen, [path.join(__dirname, 'loadgen.js')]);
  await nextMessage(loadgen, (m) => m && m.type === 'ready', 30_000, 'load generator start-up');

  let sliceId = 0;
  const ourPids = () => [
    process.pid,
    loadgen.pid,
    ...running.map((r) => r.pid),
    ...(redisPid === undefined ? [] : [redisPid]),
  ];
  /**
   * @param {any} r
   * @param {number} round - 0 is the discarded warm-up round
   */
  async function slice(r, round) {
    r.nextWarmup = round === 0 ? settings.initialWarmupSeconds : settings.warmupSeconds;
    r.nextDuration = round === 0 ? 0.5 : settings.durationSeconds;
    const { request, poolSize, file } = await sliceRequest(r, `r${round}`);
    const id = ++sliceId;
    const machineBefore = machineSeconds();
    const oursBefore = ourPids().reduce((n, pid) => n + processSeconds(pid), 0);
    const wallBefore = Date.now();
    loadgen.send({
      type: 'run',
      id,
      port: r.port,
      serverPid: r.pid,
      request,
      connections: settings.connections,
      warmupSeconds: r.nextWarmup,
      durationSeconds: r.nextDuration,
    });
    const answer = await nextMessage(
      loadgen,
      (m) => m && m.type === 'result' && m.id === id,
      120_000,
      `${r.contender.id} slice`,
    );
    if (file) fs.rmSync(file, { force: true });
    if (answer.error) throw new Error(`${r.contender.id}: ${answer.error}`);
    // What other processes used while this slice ran (warm-up included), in cores: a slice
    // they ran into is flagged, and the report counts such slices per contender.
    const othersCores = Math.max(
      0,
      (machineSeconds().busy -
        machineBefore.busy -
        (ourPids().reduce((n, pid) => n + processSeconds(pid), 0) - oursBefore)) /
        ((Date.now() - wallBefore) / 1000),
    );
    const s = { ...answer.slice, round, seq: id, othersCores };
    r.bestRps = Math.max(r.bestRps, s.rps);
    const failed = s.non2xx + s.errors + s.timeouts;
    if (round > 0 && s.ok === 0)
      problems.push(
        `${r.contender.id} round ${round}: no response completed within the slice (the server got no CPU time?): its ratios for this round are 0`,
      );
    if (round > 0 && failed > 0)
      problems.push(
        `${r.contender.id} round ${round}: ${failed} failed requests (non-2xx ${s.non2xx}, errors ${s.errors}, timeouts ${s.timeouts})`,
      );
    if (round > 0 && s.tokensUsed > poolSize)
      problems.push(`${r.contender.id} round ${round}: the single-use token pool (${poolSize}) ran out`);
    if (round > 0 && s.loadgenCpu > 0.9)
      problems.push(
        `${r.contender.id} round ${round}: the load generator used ${(s.loadgenCpu * 100).toFixed(0)}% of its core, so it may have been the limit`,
      );
    return s;
  }

  /** @type {Record<string, any[]>} */
  const slices = Object.fromEntries(contenders.map((c) => [c.id, []]));
  const machineBefore = machineSeconds();
  const oursBefore = ourPids().reduce((n, pid) => n + processSeconds(pid), 0);
  const roundsStarted = Date.now();

  for (let round = 0; round <= settings.rounds; round++) {
    process.stdout.write(round === 0 ? 'warm-up round ' : `round ${round}/${settings.rounds} `);
    for (const r of roundOrder(running, round)) {
      const s = await slice(r, round);
      if (round > 0) slices[r.contender.id]?.push(s);
      process.stdout.write('.');
    }
    process.stdout.write('\n');
  }

  const wall = (Date.now() - roundsStarted) / 1000;
  const machineAfter = machineSeconds();
  // Clamped: the two readings are not atomic, so an idle machine can come out a hair below 0.
  const othersCores = Math.max(
    0,
    (machineAfter.busy - machineBefore.busy - (ourPids().reduce((n, pid) => n + processSeconds(pid), 0) - oursBefore)) /
      wall,
  );
  const stealCores = (machineAfter.steal - machineBefore.steal) / wall;
  const loadavgAfter = os.loadavg();
  stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });

  const summaries = report.summarise(contenders, slices);
  const evaluated = report.evaluateTargets(
    targets.filter((t) => (t.kind === 'memory' || t.kind === 'store' ? !only : slices[t.of] && slices[t.to])),
    contenders,
    slices,
    memory,
  );
  const noisy = Object.values(slices)
    .flat()
    .filter((s) => s.othersCores > NOISY_CORES).length;
  const sliceCount = Object.values(slices).flat().length;
  if (noisy > 0)
    problems.push(
      `${noisy} of ${sliceCount} measured slices ran while other processes used more than ${NOISY_CORES} of a core (column "noisy slices"): distrust ratios whose min–max is wide`,
    );
  // The load average before also counts whatever ran just before (often a previous bench);
  // what other processes actually used during the rounds is the measure that counts.
  const loaded = othersCores > 0.2 || stealCores > 0.1;
  const run = {
    date: new Date(started).toISOString(),
    mode: args.quick ? 'quick' : only ? 'partial' : 'full',
    settings,
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown CPU',
      cores: os.cpus().length,
      memoryGB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      pinning: pinning
        ? `servers pinned to CPU ${pinning.server}, load generator to CPU ${pinning.loadgen} (taskset)`
        : 'no CPU pinning',
      loadavgBefore,
      loadavgAfter,
      // Cores' worth of CPU that processes other than this bench used during the rounds.
      otherProcessesCores: othersCores,
      // Cores' worth of time the host did not give this VM (0 on bare metal).
      stealCores,
      loaded,
    },
    versions: {
      node: process.versions.node,
      tokengate: JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
      commit: gitCommit(),
      express: versionOf('express'),
      peer: versionOf('@node-oauth/express-oauth-server'),
      peerCore: versionOf('@node-oauth/oauth2-server'),
      jsonwebtoken: versionOf('jsonwebtoken'),
      'lru-cache': versionOf('lru-cache'),
      autocannon: versionOf('autocannon'),
    },
    timing: { setupSeconds, roundsSeconds: wall, totalSeconds: (Date.now() - started) / 1000 },
    responseBytes: Object.fromEntries(running.map((r) => [r.contender.id, r.responseBytes])),
    noisySlices: noisy,
    summaries,
    targets: evaluated,
    memory,
    problems,
    slices,
  };

  const md = report.markdown(run, contenders);
  console.log(`\n${report.text(run, contenders)}\n`);
  for (const [format, m] of Object.entries(memory).filter(([f]) => f !== 'store'))
    console.log(
      `cache memory (${format}): ${Math.round(m.rssBytesPerToken)} B RSS, ${Math.round(m.heapBytesPerToken)} B heap per token at ${m.count}`,
    );
  console.log(
    `machine: load average ${loadavgBefore.map((x) => x.toFixed(2)).join(' ')} → ${loadavgAfter.map((x) => x.toFixed(2)).join(' ')}; ` +
      `other processes used ${othersCores.toFixed(2)} cores and steal ${stealCores.toFixed(2)} during the rounds${loaded ? ' (busy machine: trust the ratios, not the absolute req/s)' : ''}`,
  );
  for (const p of problems) console.log(`problem: ${p}`);

  fs.mkdirSync(RESULTS, { recursive: true });
  const base = args.quick ? 'latest-quick' : only ? 'latest-partial' : 'latest';
  const stamp = run.date.replace(/[:.]/g, '-');
  fs.writeFileSync(path.join(RESULTS, `${base}.json`), `${JSON.stringify(run, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS, `${base}.md`), `${md}\n`);
  fs.writeFileSync(path.join(RESULTS, `${stamp}-${run.mode}.json`), `${JSON.stringify(run, null, 2)}\n`);
  console.log(
    `saved bench/results/${base}.json and .md (and ${stamp}-${run.mode}.json); total ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );

  if (args['update-docs'] || args['update-readme']) updateDocs(md, run);
}

/**
 * Replace the generated part of docs/performance.md (between the `bench:begin`/`bench:end`
 * markers) and nothing else. Only full runs of every contender.
 * @param {string} md
 * @param {any} run
 */
function updateDocs(md, run) {
  if (run.mode !== 'full' || only) {
    console.log('docs/performance.md not updated: only a full run of every contender goes there.');
    return;
  }
  const file = path.join(ROOT, 'docs', 'performance.md');
  const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a === -1 || b < a) {
    console.log('docs/performance.md not updated: no <!-- bench:begin --> … <!-- bench:end --> markers in it.');
    return;
  }
  fs.writeFileSync(file, `${doc.slice(0, a + begin.length)}\n${md}\n${doc.slice(b)}`);
  console.log('docs/performance.md table updated.');
}

/**
 * `bench/store-memory.js` in a fresh process with `--trace-gc`: the memory store's heap per
 * record, and a fixed allocation loop's time and GC pauses with `records` live records.
 * @param {number} records
 */
function storeMemory(records) {
  return new Promise((resolve, reject) => {
    const argv = ['--expose-gc', '--trace-gc', path.join(__dirname, 'store-memory.js'), String(records)];
    const child = pinning
      ? spawn('taskset', ['-c', pinning.loadgen, process.execPath, ...argv], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'inherit'],
        })
      : spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('exit', (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`bench/store-memory.js ${records} exited with ${code}`));
      const lines = stdout.trim().split('\n');
      const result = JSON.parse(/** @type {string} */ (lines.pop()));
      // GC pauses during the allocation loop only (after the marker line).
      const load = lines.slice(lines.indexOf('--- load ---') + 1);
      const pauses = (/** @type {RegExp} */ kind) =>
        load
          .filter((l) => kind.test(l))
          .map((l) => Number((/, ([\d.]+) \/ [\d.]+ ms/.exec(l) ?? [])[1]))
          .filter(Number.isFinite);
      const scavenges = pauses(/Scavenge/);
      const fulls = pauses(/Mark-Compact|Mark-sweep/);
      const sum = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0);
      resolve({
        ...result,
        scavenges: scavenges.length,
        scavengeMs: sum(scavenges),
        meanScavengeMs: scavenges.length ? sum(scavenges) / scavenges.length : 0,
        fullGcs: fulls.length,
        fullGcMs: sum(fulls),
      });
    });
  });
}

/** Cores' worth of other processes' CPU during a slice above which the slice is flagged. */
const NOISY_CORES = 0.2;

/**
 * Every contender's response must have its ceiling's bytes (status line, headers, body), or
 * the ratio would partly measure bytes instead of work; a contender that differs for a reason
 * says so in `bytesNote`. Returns the problems found.
 * @param {any[]} running
 */
function compareBytes(running) {
  /** @type {string[]} */
  const problems = [];
  for (const r of running) {
    const ceiling = running.find((c) => c.contender.id === r.contender.ceiling);
    if (!ceiling || r.responseBytes === ceiling.responseBytes) continue;
    const headers =
      r.responseHeaders.join(',') === ceiling.responseHeaders.join(',')
        ? 'same headers'
        : `headers ${r.responseHeaders.join(',')} vs ${ceiling.responseHeaders.join(',')}`;
    const why = r.contender.bytesNote ? ` (expected: ${r.contender.bytesNote})` : '';
    const line = `${r.contender.id}: ${r.responseBytes} response bytes vs ${ceiling.responseBytes} for ${ceiling.contender.id} (${headers})${why}`;
    if (r.contender.bytesNote) console.log(`note: ${line}`);
    else problems.push(line);
  }
  return problems;
}

/** @type {number | undefined} */
let redisPid;
/**
 * Start a throwaway redis-server (no persistence) on a free port; it is stopped with the
 * servers. @param {string} tmp
 */
async function startRedis(tmp) {
  const port = await new Promise((resolve, reject) => {
    const probe = require('node:net').createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = /** @type {import('node:net').AddressInfo} */ (probe.address());
      probe.close(() => resolve(free));
    });
    probe.on('error', reject);
  });
  const argv = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp];
  const child = pinning
    ? spawn('taskset', ['-c', pinning.loadgen, /** @type {string} */ (redisBinary), ...argv], { stdio: 'ignore' })
    : spawn(/** @type {string} */ (redisBinary), argv, { stdio: 'ignore' });
  children.add(child);
  child.on('exit', () => children.delete(child));
  redisPid = child.pid;
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const socket = require('node:net').connect(port, '127.0.0.1');
      socket.on('connect', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (up) return port;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('bench: redis-server did not start');
}

if (args['from-latest']) {
  const run = JSON.parse(fs.readFileSync(path.join(RESULTS, 'latest.json'), 'utf8'));
  const md = report.markdown(
    run,
    allContenders.filter((c) => run.summaries[c.id]),
  );
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), `${md}\n`);
  if (args['update-docs'] || args['update-readme']) updateDocs(md, run);
  else console.log(md);
} else {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    stopAll();
    process.exitCode = 1;
  });
}
