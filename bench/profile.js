/**
 * `npm run bench:profile -- <contender> [seconds]` — where one contender's server spends its
 * CPU time, under the same load the bench puts on it.
 *
 * Starts the contender's server with `--cpu-prof` (pinned like in the bench), drives it with
 * the load generator for a few seconds, stops it (the profile is written on exit) and prints a
 * summary: self time by function, and inclusive time of the frames that matter for the
 * question "what does tokengate cost here" (our `dist/` code, jsonwebtoken, crypto, Express,
 * Node's HTTP). The summary goes to `bench/results/profile-<contender>.md`, next to the raw
 * `.cpuprofile` (open it in Chrome DevTools → Performance, or speedscope).
 *
 * Start-up and the warm-up are left out, and so is time spent idle:
 * the percentages are shares of the server's busy time while serving the measured load.
 * @packageDocumentation
 */
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { contenders } = require('./contenders');

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(__dirname, 'results');
const WARMUP_SECONDS = 3;

/**
 * A frame's readable name: function, file (relative, node_modules shortened) and line.
 * @param {{ functionName: string, url: string, lineNumber: number }} frame
 */
function frameName(frame) {
  const file = frame.url
    .replace(/^file:\/\//, '')
    .replace(`${ROOT}/`, '')
    .replace(/.*node_modules\//, '');
  return `${frame.functionName || '(anonymous)'} ${file}${frame.lineNumber >= 0 ? `:${frame.lineNumber + 1}` : ''}`;
}

/**
 * Self and inclusive time per frame name, as shares of busy (non-idle) time, counting only
 * samples taken from `fromUs` on (V8 profile time, a monotonic clock in µs).
 * @param {any} profile - a V8 .cpuprofile
 * @param {number} fromUs
 */
function summarise(profile, fromUs) {
  /** @type {Map<number, any>} */
  const nodes = new Map(profile.nodes.map((/** @type {any} */ n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** @type {Map<number, number>} */
  const timeByNode = new Map();
  let at = profile.startTime;
  profile.samples.forEach((/** @type {number} */ id, /** @type {number} */ i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= fromUs) timeByNode.set(id, (timeByNode.get(id) ?? 0) + delta);
  });
  const self = new Map();
  const inclusive = new Map();
  let busy = 0;
  for (const [id, time] of timeByNode) {
    const name = frameName(nodes.get(id).callFrame);
    if (name.startsWith('(idle)') || name.startsWith('(program)')) continue;
    busy += time;
    self.set(name, (self.get(name) ?? 0) + time);
    // Each frame once per sample, however deep the recursion.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = frameName(nodes.get(cur).callFrame);
      if (seen.has(frame)) continue;
      seen.add(frame);
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + time);
    }
  }
  const top = (
    /** @type {Map<string, number>} */ m,
    /** @type {(name: string) => boolean} */ keep,
    /** @type {number} */ n,
  ) =>
    [...m]
      .filter(([name]) => keep(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, t]) => `${((100 * t) / busy).toFixed(1).padStart(5)}%  ${name}`);
  const ours = (/** @type {string} */ name) =>
    /dist\/cjs\/|jsonwebtoken|jws|jwa|node:internal\/crypto|lru-cache|garbage collector|express\/lib\/application|router\/index.js:\d+$/.test(
      name,
    ) && !/\(root\)/.test(name);
  return { busySeconds: busy / 1e6, self: top(self, () => true, 25), inclusive: top(inclusive, ours, 40) };
}

async function main() {
  const id = process.argv[2];
  const seconds = Number(process.argv[3] ?? 8);
  const contender = contenders.find((c) => c.id === id);
  if (!contender) throw new Error(`bench/profile.js: name a contender: ${contenders.map((c) => c.id).join(', ')}`);
  if (contender.mint)
    throw new Error(
      'bench/profile.js: single-use-token contenders are profiled through npm run bench (not supported here).',
    );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-profile-'));
  const pin = (/** @type {string} */ cpu) => {
    try {
      execFileSync('taskset', ['-c', cpu, 'true'], { stdio: 'ignore' });
      return ['taskset', '-c', cpu];
    } catch {
      return [];
    }
  };
  const [file, ...serverArgs] = contender.server;
  const serverCmd = [
    ...pin('0'),
    process.execPath,
    '--expose-gc',
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    path.join(__dirname, 'servers', file),
    serverArgs[0] ?? '',
    dir,
    ...serverArgs.slice(1),
  ];
  const server = spawn(/** @type {string} */ (serverCmd[0]), serverCmd.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise((resolve) => server.once('message', resolve));
  const loadCmd = [...pin('1'), process.execPath, path.join(__dirname, 'loadgen.js')];
  const loadgen = spawn(/** @type {string} */ (loadCmd[0]), loadCmd.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise((resolve) => loadgen.once('message', resolve));
  const request = contender.request.tokens
    ? { ...contender.request, tokens: { ...contender.request.tokens, file: ready.pool } }
    : contender.request;
  // Three seconds of warm-up: enough for the JIT, and for every connection to go through a
  // 1 000-token pool once, so a cache-hit contender is all hits when the profile counts.
  loadgen.send({
    type: 'run',
    id: 1,
    port: ready.port,
    serverPid: server.pid,
    request,
    connections: 10,
    warmupSeconds: WARMUP_SECONDS,
    durationSeconds: seconds,
  });
  const { slice } = await new Promise((resolve) => loadgen.on('message', (m) => m.type === 'result' && resolve(m)));
  loadgen.disconnect();
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.disconnect();
  await exited;
  const profileFile = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!profileFile) throw new Error('bench/profile.js: the server wrote no profile');
  // Leave out start-up and warm-up: count from the measured run (the load generator's start-up
  // is well under a second, so this errs on the side of leaving a little measured time out).
  const summary = summarise(
    JSON.parse(fs.readFileSync(path.join(dir, profileFile), 'utf8')),
    ready.monotonicUs + (WARMUP_SECONDS + 1) * 1e6,
  );
  fs.mkdirSync(RESULTS, { recursive: true });
  const rawOut = path.join(RESULTS, `profile-${id}.cpuprofile`);
  fs.copyFileSync(path.join(dir, profileFile), rawOut);
  fs.rmSync(dir, { recursive: true, force: true });
  const md = [
    `# CPU profile: ${contender.label}`,
    '',
    `${new Date().toISOString()}, Node ${process.versions.node}, ${seconds} s under ${slice.rps.toFixed(0)} req/s (${slice.serverCpuUsPerReq?.toFixed(1) ?? 'n/a'} µs of server CPU per request, profiler on); ${summary.busySeconds.toFixed(1)} s of busy server time sampled. Shares are of busy time (idle left out). Raw profile: \`bench/results/profile-${id}.cpuprofile\`.`,
    '',
    '## Self time (top 25)',
    '',
    '```',
    ...summary.self,
    '```',
    '',
    '## Inclusive time: tokengate, JWT, crypto, cache, GC, Express (top 40)',
    '',
    '```',
    ...summary.inclusive,
    '```',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(RESULTS, `profile-${id}.md`), md);
  console.log(md);
  console.log(`written: bench/results/profile-${id}.md and .cpuprofile`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
