/**
 * Turning a run's raw slices into what people read: per-contender medians, per-round
 * ratios, the targets of issue 5 met or missed, as a console table and as Markdown.
 * @packageDocumentation
 */
'use strict';
const { summary } = require('./stats');

/**
 * @typedef {{ rps: number, p50Ms: number, p99Ms: number, serverCpuUsPerReq: number | null,
 *   serverRssBytes: number | null, loadgenCpu: number, non2xx: number, errors: number,
 *   timeouts: number, ok: number, tokensUsed: number, round: number, seq: number }} Slice
 * @typedef {import('../contenders').Contender} Contender
 * @typedef {import('../contenders').Target} Target
 */

/**
 * A slice's throughput (or cost) relative to the ceiling slices on either side of it — the
 * harness runs the ceiling between every two contenders — or `undefined` for a ceiling.
 * @param {Slice} slice
 * @param {Slice[] | undefined} ceilingSlices
 * @param {'rps' | 'cpu'} basis - `cpu`: the ceiling's CPU time per request over the slice's,
 *   so that, like throughput, higher is better
 */
function normalised(slice, ceilingSlices, basis) {
  const value = (/** @type {Slice} */ s) => (basis === 'rps' ? s.rps : (s.serverCpuUsPerReq ?? NaN));
  const around = (ceilingSlices ?? []).filter((c) => c.round === slice.round && Math.abs(c.seq - slice.seq) === 1);
  if (around.length === 0) return undefined;
  const ref = around.reduce((sum, c) => sum + value(c), 0) / around.length;
  return basis === 'rps' ? value(slice) / ref : ref / value(slice);
}

/**
 * Ratio of `of` to `to` in each round, higher is better: throughput (`rps`) or cost per
 * request (`cpu`). To a ceiling: the contender against the ceiling slices just before and
 * after it. Between two contenders (vs the peer, 1M vs 1k): the ratio of their ratios to
 * their neighbouring ceilings in that round, so both are measured against the same yardstick
 * at nearly the same moment.
 * @param {Record<string, Slice[]>} slices
 * @param {Record<string, string | undefined>} ceilingOf - contender id → its ceiling's id
 * @param {string} of
 * @param {string} to
 * @param {'rps' | 'cpu'} [basis]
 */
function roundRatios(slices, ceilingOf, of, to, basis = 'rps') {
  const ratios = [];
  for (const a of slices[of] ?? []) {
    const na = normalised(a, slices[ceilingOf[of] ?? ''], basis);
    if (na === undefined) continue;
    let ratio = na;
    if (to !== ceilingOf[of]) {
      const b = (slices[to] ?? []).find((s) => s.round === a.round);
      const nb = b && normalised(b, slices[ceilingOf[to] ?? ''], basis);
      if (nb === undefined) continue;
      ratio = na / nb;
    }
    if (Number.isFinite(ratio)) ratios.push(ratio);
  }
  return ratios;
}

/**
 * @param {readonly Contender[]} contenders
 * @param {Record<string, Slice[]>} slices - measured slices per contender id (warm-up round excluded)
 */
function summarise(contenders, slices) {
  const ceilingOf = Object.fromEntries(contenders.map((c) => [c.id, c.ceiling]));
  /** @type {Record<string, object>} */
  const out = {};
  for (const c of contenders) {
    const own = slices[c.id] ?? [];
    const rss = own.map((s) => s.serverRssBytes ?? NaN);
    out[c.id] = {
      label: c.label,
      rounds: own.length,
      rps: summary(own.map((s) => s.rps)),
      p50Ms: summary(own.map((s) => s.p50Ms)).median,
      p99Ms: summary(own.map((s) => s.p99Ms)).median,
      cpuUsPerReq: summary(own.map((s) => s.serverCpuUsPerReq ?? NaN)).median,
      rssMB: rss.some(Number.isFinite) ? Math.max(...rss.filter(Number.isFinite)) / 2 ** 20 : NaN,
      loadgenCpu: summary(own.map((s) => s.loadgenCpu)).median,
      failures: own.reduce((n, s) => n + s.non2xx + s.errors + s.timeouts, 0),
      ceiling: c.ceiling ? { of: c.ceiling, ...summary(roundRatios(slices, ceilingOf, c.id, c.ceiling)) } : undefined,
      peer:
        c.peer && slices[c.peer] ? { of: c.peer, ...summary(roundRatios(slices, ceilingOf, c.id, c.peer)) } : undefined,
      floor:
        c.floor && slices[c.floor]
          ? { of: c.floor, ...summary(roundRatios(slices, ceilingOf, c.id, c.floor)) }
          : undefined,
      // Slices during which other processes used more than a fifth of a core.
      noisySlices: own.filter((s) => (s.othersCores ?? 0) > 0.2).length,
    };
  }
  return out;
}

/**
 * @param {readonly Target[]} targets
 * @param {readonly Contender[]} contenders
 * @param {Record<string, Slice[]>} slices
 * @param {Record<string, { rssBytesPerToken: number, heapBytesPerToken: number } | undefined>} memory
 */
function evaluateTargets(targets, contenders, slices, memory) {
  const ceilingOf = Object.fromEntries(contenders.map((c) => [c.id, c.ceiling]));
  return targets.map((t) => {
    if (t.kind === 'memory') {
      const m = memory[t.format];
      const measured = m ? m.rssBytesPerToken : NaN;
      return {
        id: t.id,
        scenario: t.scenario,
        target: `≤ ${t.maxBytes} B`,
        measured,
        unit: 'B',
        met: measured <= t.maxBytes,
      };
    }
    if (t.kind === 'store') {
      const measured = memory.store ? memory.store.big.mbPerMillion : NaN;
      return {
        id: t.id,
        scenario: t.scenario,
        target: `≤ ${t.maxMBPerMillion} MB`,
        measured,
        unit: 'MB',
        met: measured <= t.maxMBPerMillion,
      };
    }
    const s = summary(roundRatios(slices, ceilingOf, t.of, t.to));
    const cpu = summary(roundRatios(slices, ceilingOf, t.of, t.to, 'cpu'));
    const target =
      t.min === undefined
        ? `(× ${t.to}, for information)`
        : t.max === undefined
          ? `≥ ${t.min.toFixed(2)} × ${t.to}`
          : `${t.min.toFixed(2)}–${t.max.toFixed(2)} × ${t.to}`;
    const met = t.min === undefined ? undefined : s.median >= t.min && (t.max === undefined || s.median <= t.max);
    return {
      id: t.id,
      scenario: t.scenario,
      target,
      measured: s.median,
      min: s.min,
      max: s.max,
      cpuBasis: cpu.median,
      unit: '×',
      met,
    };
  });
}

const fmt = {
  int: (/** @type {number} */ v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a'),
  ms: (/** @type {number} */ v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a'),
  ratio: (/** @type {number} */ v) => (Number.isFinite(v) ? v.toFixed(2) : '–'),
  pct: (/** @type {number} */ v) => (Number.isFinite(v) ? `±${(v * 100).toFixed(1)}%` : ''),
  mb: (/** @type {number} */ v) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a'),
  us: (/** @type {number} */ v) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a'),
};

/**
 * @param {{ median: number, min: number, max: number } | undefined} r
 */
function ratioCell(r) {
  if (!r || !Number.isFinite(r.median)) return '–';
  return `${fmt.ratio(r.median)} (${fmt.ratio(r.min)}–${fmt.ratio(r.max)})`;
}

/**
 * The main table as rows of cells (shared by the console and Markdown renderings).
 * @param {readonly Contender[]} contenders
 * @param {Record<string, any>} summaries
 * @param {Record<string, number>} [responseBytes]
 */
function tableRows(contenders, summaries, responseBytes) {
  const header = [
    'scenario',
    'req/s (median)',
    'spread',
    'p50 ms',
    'p99 ms',
    '× ceiling (min–max)',
    '× peer (min–max)',
    '× floor (min–max)',
    'server CPU µs/req',
    'RSS MB',
    'response B',
    'noisy slices',
  ];
  const rows = contenders.map((c) => {
    const s = summaries[c.id];
    return [
      s.label,
      fmt.int(s.rps.median),
      fmt.pct(s.rps.spread),
      fmt.ms(s.p50Ms),
      fmt.ms(s.p99Ms),
      ratioCell(s.ceiling),
      ratioCell(s.peer),
      s.floor ? `${ratioCell(s.floor)} ${s.floor.of}` : '–',
      fmt.us(s.cpuUsPerReq),
      fmt.mb(s.rssMB),
      fmt.int(responseBytes?.[c.id] ?? NaN),
      `${s.noisySlices ?? 0}/${s.rounds}`,
    ];
  });
  return { header, rows };
}

/** @param {string[]} header @param {string[][]} rows */
function markdownTable(header, rows) {
  const line = (/** @type {string[]} */ cells) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** @param {string[]} header @param {string[][]} rows */
function textTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (/** @type {string[]} */ cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** @param {ReturnType<typeof evaluateTargets>} evaluated */
function targetRows(evaluated) {
  const header = [
    'target',
    'required',
    'measured: req/s ratio, median (min–max of rounds)',
    'same, by server CPU per request',
    'met',
  ];
  const rows = evaluated.map((t) => [
    t.scenario,
    t.target,
    t.unit === 'B'
      ? `${fmt.int(t.measured)} B`
      : t.unit === 'MB'
        ? `${fmt.int(t.measured)} MB`
        : `${fmt.ratio(t.measured)} (${fmt.ratio(/** @type {number} */ (t.min))}–${fmt.ratio(/** @type {number} */ (t.max))})`,
    t.unit === '×' ? fmt.ratio(/** @type {number} */ (t.cpuBasis)) : '',
    t.met === undefined ? '–' : t.met ? 'yes' : '**no**',
  ]);
  return { header, rows };
}

/**
 * The whole report as Markdown: what ran where, the table, the targets, the memory probe.
 * @param {any} run - the saved results object
 * @param {readonly Contender[]} contenders
 */
function markdown(run, contenders) {
  const { header, rows } = tableRows(contenders, run.summaries, run.responseBytes);
  const t = targetRows(run.targets);
  const m = run.machine;
  const v = run.versions;
  const load = `load average ${m.loadavgBefore.map((x) => x.toFixed(2)).join(' / ')} before, ${m.loadavgAfter.map((x) => x.toFixed(2)).join(' / ')} after (1/5/15 min); other processes used ${Number.isFinite(m.otherProcessesCores) ? m.otherProcessesCores.toFixed(2) : 'n/a'} of the ${m.cores} cores during the rounds${Number.isFinite(m.stealCores) && m.stealCores >= 0.01 ? ` and the VM host took ${m.stealCores.toFixed(2)} (steal)` : ''}`;
  const memoryLines = ['jwt', 'opaque']
    .filter((f) => run.memory[f])
    .map((f) => {
      const x = run.memory[f];
      return `- ${f === 'jwt' ? 'JWT (ES256)' : 'opaque'}: ${fmt.int(x.rssBytesPerToken)} B of RSS and ${fmt.int(x.heapBytesPerToken)} B of V8 heap per cached token at ${fmt.int(x.count)} cached tokens (replay: ${x.missesOnReplay} store lookups, i.e. all ${x.missesOnReplay === 0 ? 'served from the cache' : 'NOT cached'})`;
    });
  return [
    `Run of ${run.date} (${run.mode}${run.mode === 'quick' ? ': a smoke run, not for quoting' : ''}, ${Math.round(run.timing.totalSeconds)} s): one server process per contender, ${run.settings.connections} connections, a discarded warm-up round, then ${run.settings.rounds} interleaved rounds of one ${run.settings.durationSeconds} s slice per contender (after ${run.settings.warmupSeconds} s of warm-up each), with the GET or POST ceiling run again between every two contenders. Each contender is taken relative to the two ceiling slices around it, ratios between contenders (× peer, 1M vs 1k) as the ratio of those, per round; the table shows the median and the min–max over rounds.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.os}; ${m.pinning}; ${load}${m.loaded ? ' — **the machine was busy with other work, so absolute numbers are low; the same-round ratios are what count**' : ''}.`,
    `Versions: Node ${v.node}, tokengate ${v.tokengate} (${v.commit}), express ${v.express}, @node-oauth/express-oauth-server ${v.peer} (oauth2-server ${v.peerCore}), jsonwebtoken ${v.jsonwebtoken}, lru-cache ${v['lru-cache']}, autocannon ${v.autocannon}.`,
    '',
    markdownTable(header, rows),
    '',
    markdownTable(t.header, t.rows),
    '',
    'Cache memory (a separate fresh process, RSS after full GCs, cache sized to hold them all):',
    ...memoryLines,
    ...storeLines(run.memory.store),
    ...(run.problems.length
      ? ['', '**Problems in this run:**', ...run.problems.map((/** @type {string} */ p) => `- ${p}`)]
      : []),
  ].join('\n');
}

/**
 * The memory store probe's lines (bench/store-memory.js).
 * @param {any} store
 */
function storeLines(store) {
  if (!store) return [];
  const line = (/** @type {any} */ x) =>
    `${fmt.int(x.records)} records: ${fmt.int(x.bytesPerRecord)} B per record (${fmt.int(x.mbPerMillion)} MB per million) of V8 heap + array buffers; allocation loop ${fmt.int(x.loadMs)} ms, ${x.scavenges} scavenges (mean ${x.meanScavengeMs.toFixed(2)} ms), ${x.fullGcs} full GCs (${fmt.int(x.fullGcMs)} ms)`;
  return [
    '',
    `Memory token store (fresh processes, refresh-token records saved as the grants save them; \`--trace-gc\` during a fixed allocation loop; same loop time with many records vs few: ${fmt.ratio(store.loadRatio)}):`,
    `- ${line(store.small)}`,
    `- ${line(store.big)}`,
  ];
}

/**
 * The console rendering.
 * @param {any} run
 * @param {readonly Contender[]} contenders
 */
function text(run, contenders) {
  const { header, rows } = tableRows(contenders, run.summaries, run.responseBytes);
  const t = targetRows(run.targets);
  return [
    textTable(header, rows),
    '',
    textTable(
      t.header,
      t.rows.map((r) => r.map((c) => c.replace(/\*\*/g, ''))),
    ),
  ].join('\n');
}

module.exports = { summarise, evaluateTargets, markdown, text, roundRatios };
