import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { nowMicros, STAMP_PATTERN } from './clock.ts';
import {
  CORES,
  canPin,
  cpuMicros,
  currentRss,
  fixed,
  freePort,
  gatewayEnv,
  HERE,
  launch,
  makeClientKey,
  openaiBody,
  type ProviderName,
  peakRss,
  percentile,
  ROOT,
  sleep,
  startScript,
  stop,
  UPSTREAMS,
  type Upstream,
  waitUntilUp,
} from './common.ts';

/*
 * `BENCH_STREAMS=… npm run bench`: many slow streams at once, as a model's long answers arrive
 * (docs/performance.md, "Many slow streams"). For each provider and each level N, a fresh
 * pass-through and then a fresh gateway (core 0) get N concurrent streaming chat completions,
 * opened evenly over OPEN_MS, one connection each; the mock (core 1) answers each with EVENTS small
 * events INTERVAL_MS apart, each its own write, the text ones stamped with the time it wrote them.
 * The client here (core 1, with the mock) reads every stream to its end and records when its first
 * byte came and how late each stamped event arrived. CPU time comes from /proc/<pid>/stat of the
 * target, sampled every SAMPLE_MS, and is split into a cost per event and a cost per stream
 * (splitCpu). Memory per stream is (peak RSS − idle RSS) / N, idle read after a warm-up.
 */

const EVENTS = 40;
const INTERVAL_MS = 250;
const OPEN_MS = 5000;
const DEFAULT_LEVELS: readonly number[] = [1000, 3000, 6000];
/** Streams opened over a second, read to their end, before the idle RSS is read: the code paths are warm. */
const WARMUP_STREAMS = 200;
const SETTLE_MS = 1000;
const SAMPLE_MS = 250;
/** How long a run waits past the last stream's due end before it counts the streams still open as failed. */
const SLACK_MS = 30_000;
/** File descriptors besides the streams' (libuv, the store, the log, the pools' spares). */
const FD_MARGIN = 200;

type TargetName = 'pass-through' | 'gateway';
const TARGET_NAMES: readonly TargetName[] = ['pass-through', 'gateway'];

/** BENCH_STREAMS: unset for the default bench, `1` for DEFAULT_LEVELS, or a comma-separated list of stream counts. */
export function parseLevels(value: string | undefined): readonly number[] | undefined {
  if (value === undefined || value === '' || value === '0') return undefined;
  if (value === '1') return DEFAULT_LEVELS;
  const levels = value.split(',').map((level) => Number(level.trim()));
  if (levels.some((level) => !Number.isInteger(level) || level < 1)) {
    throw new Error(`BENCH_STREAMS: expected 1 or a list of stream counts such as 1000,3000, got "${value}"`);
  }
  return levels;
}

/** The soft and hard limits on open files of a process (Linux /proc). */
function openFileLimit(pid: number): { soft: number; hard: number } {
  const line = /Max open files\s+(\S+)\s+(\S+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  const value = (text: string | undefined) => (text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text));
  return { soft: value(line?.[1]), hard: value(line?.[2]) };
}

/**
 * Raises this process's open-file limit as far as the machine allows: to fs.nr_open where it may
 * raise the hard limit (root), else to the hard limit. The children it starts inherit it.
 */
function raiseOpenFileLimit(): { soft: number; hard: number } {
  const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
  for (const limit of [nrOpen, openFileLimit(process.pid).hard]) {
    if (!Number.isFinite(limit) || limit <= openFileLimit(process.pid).soft) continue;
    const raised = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit}:${limit}`]);
    if (raised.status === 0) break;
  }
  return openFileLimit(process.pid);
}

interface StreamTarget {
  name: TargetName;
  url: string;
  body: string;
  headers: Record<string, string>;
  pid: number | undefined;
}

/** What the client and /proc saw at one moment; counts are cumulative. */
interface Sample {
  at: number;
  /** The target's CPU time, µs. */
  cpu: number;
  /** CPU time of the load core's two processes, the mock and this one, µs. */
  loadCpu: number;
  /** Streams whose first byte has arrived. */
  starts: number;
  /** Stamped (text) events read. */
  events: number;
  /** Streams read to their end. */
  ends: number;
}

interface RawRun {
  count: number;
  completed: number;
  failures: Map<string, number>;
  /** Time to the first body byte of each stream that had one, ms. */
  firstBytes: number[];
  /** Delivery lag of each stamped event read, ms. */
  lags: Float64Array;
  /** When the last stream's first byte came and the first stream ended (performance.now()). */
  lastFirstByte: number;
  firstEnd: number;
  samples: Sample[];
}

/**
 * Opens `count` streams evenly over `openMs`, one connection each (Connection: close, as a client
 * holding one stream per socket), reads them to their end and records what the figures need.
 */
async function openStreams(
  target: StreamTarget,
  count: number,
  openMs: number,
  mockPid: number | undefined,
): Promise<RawRun> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const body = Buffer.from(target.body);
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length), ...target.headers };
  const textEvents = EVENTS - 1;
  const lags = new Float64Array(count * textEvents);
  const settled = new Uint8Array(count);
  const requests: http.ClientRequest[] = [];
  const firstBytes: number[] = [];
  const failures = new Map<string, number>();
  let lagCount = 0;
  let starts = 0;
  let events = 0;
  let ends = 0;
  let completed = 0;
  let settledCount = 0;
  let lastFirstByte = Number.NaN;
  let firstEnd = Number.NaN;
  const samples: Sample[] = [];
  const ownCpu = () => {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  };
  const sample = () =>
    samples.push({
      at: performance.now(),
      cpu: cpuMicros(target.pid),
      loadCpu: cpuMicros(mockPid) + ownCpu(),
      starts,
      events,
      ends,
    });
  let allSettled: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allSettled = resolve;
  });
  const settle = (index: number, failure: string | undefined) => {
    if (settled[index] === 1) return;
    settled[index] = 1;
    settledCount++;
    if (failure === undefined) completed++;
    else failures.set(failure, (failures.get(failure) ?? 0) + 1);
    if (settledCount === count) allSettled();
  };
  const open = (index: number) => {
    const started = performance.now();
    const request = http.request(target.url, { method: 'POST', agent, headers }, (response) => {
      let carry = '';
      let seen = 0;
      let first = true;
      response.on('data', (chunk: Buffer) => {
        const now = nowMicros();
        if (first) {
          first = false;
          const at = performance.now();
          firstBytes.push(at - started);
          starts++;
          lastFirstByte = Number.isNaN(lastFirstByte) ? at : Math.max(lastFirstByte, at);
        }
        const text = carry + chunk.toString('latin1');
        STAMP_PATTERN.lastIndex = 0;
        let tail = 0;
        for (let match = STAMP_PATTERN.exec(text); match !== null; match = STAMP_PATTERN.exec(text)) {
          if (lagCount < lags.length) lags[lagCount++] = (now - Number(match[1])) / 1000;
          seen++;
          events++;
          tail = STAMP_PATTERN.lastIndex;
        }
        // A stamp split between two reads is read whole with the next one.
        carry = text.slice(Math.max(tail, text.length - 24));
      });
      response.on('end', () => {
        ends++;
        const at = performance.now();
        firstEnd = Number.isNaN(firstEnd) ? at : Math.min(firstEnd, at);
        if (response.statusCode !== 200) settle(index, `HTTP ${response.statusCode}`);
        else settle(index, seen === textEvents ? undefined : `${seen} of ${textEvents} text events`);
      });
      response.on('close', () => {
        if (!response.complete) settle(index, 'cut off');
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) => settle(index, error.code ?? error.message));
    request.end(body);
    requests[index] = request;
  };

  sample();
  const sampler = setInterval(sample, SAMPLE_MS);
  const begun = performance.now();
  let next = 0;
  const opener = setInterval(() => {
    const due = Math.min(count, Math.floor(((performance.now() - begun) / openMs) * count) + 1);
    while (next < due) open(next++);
    if (next === count) clearInterval(opener);
  }, 2);
  const deadline = setTimeout(
    () => {
      for (let index = 0; index < count; index++) {
        if (settled[index] === 1) continue;
        requests[index]?.destroy();
        settle(index, 'still open at the deadline');
      }
    },
    openMs + EVENTS * INTERVAL_MS + SLACK_MS,
  );
  await done;
  clearTimeout(deadline);
  // The connections' closing is CPU of the run too.
  await sleep(500);
  clearInterval(sampler);
  sample();
  agent.destroy();
  return {
    count,
    completed,
    failures,
    firstBytes,
    lags: lags.subarray(0, lagCount),
    lastFirstByte,
    firstEnd,
    samples,
  };
}

interface CpuSplit {
  /** µs per event (text or finish). */
  perEvent: number;
  /** µs per stream: everything but its events (connection, request, upstream call, close). */
  perStream: number;
  /** How the split was made (splitCpu). */
  method: 'window' | 'fit' | 'none';
}

/**
 * Splits the target's CPU time into a cost per event and a cost per stream. Where there is a
 * window of at least a second in which every stream was open and none had ended (no set-up, no
 * close), its CPU time per event read is the cost per event, and the run's CPU time less its
 * events' share, per stream, is the cost per stream. Without such a window (a core too busy to
 * open the last streams before the first end), a least-squares fit of the CPU time of each sample
 * interval against the streams started, events read and streams ended in it.
 */
function splitCpu(raw: RawRun): CpuSplit {
  const { samples } = raw;
  const first = samples[0] as Sample;
  const last = samples.at(-1) as Sample;
  const totalCpu = last.cpu - first.cpu;
  const totalEvents = last.events + last.ends;
  const from = samples.find((sample) => sample.at >= raw.lastFirstByte);
  const to = samples.findLast((sample) => sample.at <= raw.firstEnd);
  if (from !== undefined && to !== undefined && to.at - from.at >= 1000 && to.events > from.events) {
    const perEvent = (to.cpu - from.cpu) / (to.events - from.events);
    return { perEvent, perStream: (totalCpu - perEvent * totalEvents) / last.starts, method: 'window' };
  }
  const fitted = fitCpu(samples);
  if (fitted === undefined) return { perEvent: Number.NaN, perStream: Number.NaN, method: 'none' };
  return { perEvent: fitted.perEvent, perStream: fitted.perStart + fitted.perEnd, method: 'fit' };
}

/** Least squares, without an intercept, of each interval's CPU time on its starts, events and ends. */
function fitCpu(samples: Sample[]): { perStart: number; perEvent: number; perEnd: number } | undefined {
  const normal = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const right = [0, 0, 0];
  for (let index = 1; index < samples.length; index++) {
    const before = samples[index - 1] as Sample;
    const after = samples[index] as Sample;
    const x = [after.starts - before.starts, after.events - before.events, after.ends - before.ends];
    const y = after.cpu - before.cpu;
    for (let row = 0; row < 3; row++) {
      right[row] = (right[row] as number) + (x[row] as number) * y;
      for (let column = 0; column < 3; column++) {
        (normal[row] as number[])[column] =
          ((normal[row] as number[])[column] as number) + (x[row] as number) * (x[column] as number);
      }
    }
  }
  const solution = solve3(normal, right);
  return solution === undefined ? undefined : { perStart: solution[0], perEvent: solution[1], perEnd: solution[2] };
}

/** Cramer's rule for a 3×3 system; undefined when it is singular. */
function solve3(matrix: number[][], right: number[]): [number, number, number] | undefined {
  const determinant = (m: number[][]) => {
    const [a, b, c] = m as [number[], number[], number[]];
    return (
      (a[0] as number) * ((b[1] as number) * (c[2] as number) - (b[2] as number) * (c[1] as number)) -
      (a[1] as number) * ((b[0] as number) * (c[2] as number) - (b[2] as number) * (c[0] as number)) +
      (a[2] as number) * ((b[0] as number) * (c[1] as number) - (b[1] as number) * (c[0] as number))
    );
  };
  const whole = determinant(matrix);
  if (Math.abs(whole) < 1e-9) return undefined;
  const withColumn = (column: number) =>
    determinant(matrix.map((row, index) => row.map((value, at) => (at === column ? (right[index] as number) : value))));
  return [withColumn(0) / whole, withColumn(1) / whole, withColumn(2) / whole];
}

interface Figures {
  target: TargetName;
  streams: number;
  completed: number;
  failed: number;
  failures: Map<string, number>;
  idleRss: number;
  peakRss: number;
  /** (peak − idle) / streams, KB. */
  perStreamKb: number;
  cpu: CpuSplit;
  firstByteP50: number;
  firstByteP99: number;
  /** Streams whose first byte took longer than a second. */
  lateFirstBytes: number;
  /** Connections the kernel dropped during the run because an accept backlog was full (the machine's count). */
  listenOverflows: number;
  lagP50: number;
  lagP99: number;
  /** How busy the load core (mock and client) was over the run, % of one core. */
  loadCore: number;
}

/** TcpExt ListenOverflows: connections dropped so far, machine-wide, because an accept backlog was full (Linux). */
function listenOverflows(): number {
  try {
    const [names, values] = readFileSync('/proc/net/netstat', 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('TcpExt:'))
      .map((line) => line.split(' '));
    const at = names?.indexOf('ListenOverflows') ?? -1;
    return at < 0 ? Number.NaN : Number(values?.[at]);
  } catch {
    return Number.NaN;
  }
}

function figuresOf(target: TargetName, raw: RawRun, idleRss: number, peak: number, overflows: number): Figures {
  const firstBytes = [...raw.firstBytes].sort((a, b) => a - b);
  const lags = raw.lags.sort();
  const failed = raw.count - raw.completed;
  const first = raw.samples[0] as Sample;
  const last = raw.samples.at(-1) as Sample;
  return {
    target,
    streams: raw.count,
    completed: raw.completed,
    failed,
    failures: raw.failures,
    idleRss,
    peakRss: peak,
    perStreamKb: ((peak - idleRss) * 1024) / raw.count,
    cpu: splitCpu(raw),
    firstByteP50: percentile(firstBytes, 0.5),
    firstByteP99: percentile(firstBytes, 0.99),
    lateFirstBytes: firstBytes.filter((ms) => ms > 1000).length,
    listenOverflows: overflows,
    lagP50: percentile(lags, 0.5),
    lagP99: percentile(lags, 0.99),
    loadCore: (100 * ((last.loadCpu - first.loadCpu) / 1000)) / (last.at - first.at),
  };
}

export interface SlowStreamsOptions {
  levels: readonly number[];
  /** BENCH_ONLY, lower case. */
  only: string | undefined;
  /** Call the gateway with a runtime client key (the default) rather than as an open API. */
  clientKey: boolean;
  /** The Node flags `npm start` gives the gateway. */
  startFlags: readonly string[];
  /** BENCH_CPU_PROF's flags, for the gateway: its V8 CPU profile, written when it stops. */
  profileFlags: readonly string[];
}

interface Level {
  provider: ProviderName;
  streams: number;
  rows: Figures[];
}

export async function runSlowStreams(options: SlowStreamsOptions): Promise<void> {
  const limit = raiseOpenFileLimit();
  // The gateway holds two sockets a stream (its client's and the upstream's), the client and the mock one.
  const reachable = Math.floor((limit.soft - FD_MARGIN) / 2);
  const levels = options.levels.filter((level) => level <= reachable);
  const skipped = options.levels.filter((level) => level > reachable);
  for (const level of skipped) {
    process.stderr.write(
      `bench: ${level} streams skipped: the open-file limit is ${limit.soft} (hard ${limit.hard}), ` +
        `${2 * level + FD_MARGIN} needed\n`,
    );
  }
  const storeDir = mkdtempSync(join(os.tmpdir(), 'gateway-bench-'));
  const mock = await startScript(1, 'upstream-mock.ts', ['--slow', String(EVENTS), String(INTERVAL_MS)]);
  const results: Level[] = [];
  try {
    for (const upstream of UPSTREAMS) {
      if (options.only !== undefined && options.only !== upstream.provider.toLowerCase()) continue;
      for (const streams of levels) {
        const rows: Figures[] = [];
        for (const name of TARGET_NAMES) {
          rows.push(await measureLevel(upstream, name, streams, mock, storeDir, options));
        }
        results.push({ provider: upstream.provider, streams, rows });
      }
    }
  } finally {
    await stop(mock.child);
    rmSync(storeDir, { recursive: true, force: true });
  }
  const report = render(results, limit, skipped, options);
  process.stdout.write(`${report}\n`);
  const resultsDir = join(HERE, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.md'), `${report}\n`);
  process.stderr.write('bench: written to test/bench/results/latest.md\n');
}

/** One target at one level: a fresh process, a warm-up, its idle RSS, then the streams. */
async function measureLevel(
  upstream: Upstream,
  name: TargetName,
  streams: number,
  mock: Awaited<ReturnType<typeof startScript>>,
  storeDir: string,
  options: SlowStreamsOptions,
): Promise<Figures> {
  process.stderr.write(`bench: ${upstream.provider} ${streams} slow streams, ${name}…\n`);
  let target: StreamTarget;
  let child: Awaited<ReturnType<typeof startScript>>['child'];
  if (name === 'pass-through') {
    const passthrough = await startScript(0, 'passthrough.ts', [String(mock.port)]);
    child = passthrough.child;
    target = {
      name,
      url: `http://127.0.0.1:${passthrough.port}${upstream.path('stream')}`,
      body: upstream.body('stream'),
      headers: {},
      pid: child.pid,
    };
  } else {
    const port = await freePort();
    const storeFile = join(storeDir, `${upstream.provider}-${streams}.sqlite`);
    child = launch(
      0,
      [...options.startFlags, ...options.profileFlags, join(ROOT, 'gateway/main.ts')],
      gatewayEnv(port, mock.port, storeFile, options.clientKey),
    );
    child.stdout?.resume(); // one access-log line per request, as in production, read and dropped
    await waitUntilUp(`http://127.0.0.1:${port}/healthz`);
    target = {
      name,
      url: `http://127.0.0.1:${port}/v1/chat/completions`,
      body: openaiBody(upstream.model)('stream'),
      headers: options.clientKey ? { authorization: `Bearer ${await makeClientKey(port)}` } : {},
      pid: child.pid,
    };
  }
  try {
    await openStreams(target, WARMUP_STREAMS, 1000, mock.child.pid);
    await sleep(SETTLE_MS);
    const idle = currentRss(target.pid);
    const overflowsBefore = listenOverflows();
    const raw = await openStreams(target, streams, OPEN_MS, mock.child.pid);
    const figures = figuresOf(name, raw, idle, peakRss(target.pid), listenOverflows() - overflowsBefore);
    const fitted = fitCpu(raw.samples);
    const failures = [...figures.failures].map(([reason, times]) => `${times}× ${reason}`).join(', ');
    process.stderr.write(
      `bench:   ${figures.completed} completed, ${figures.failed} failed${failures === '' ? '' : ` (${failures})`}; ` +
        `CPU ${fixed(figures.cpu.perEvent, 1)} µs/event, ${fixed(figures.cpu.perStream / 1000, 3)} ms/stream (${figures.cpu.method}); ` +
        `fit: ${fixed(fitted?.perEvent ?? Number.NaN, 1)} µs/event, ` +
        `${fixed(((fitted?.perStart ?? Number.NaN) + (fitted?.perEnd ?? Number.NaN)) / 1000, 3)} ms/stream; ` +
        `load core ${fixed(figures.loadCore, 0)} %; listen overflows ${figures.listenOverflows}\n`,
    );
    return figures;
  } finally {
    await stop(child);
  }
}

function render(
  results: Level[],
  limit: { soft: number; hard: number },
  skipped: number[],
  options: SlowStreamsOptions,
): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# Benchmark: many slow streams at once',
    '',
    `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${cpu} · ${CORES} cores · ` +
      (canPin
        ? 'gateway and pass-through pinned to core 0, the upstream mock and the client to core 1'
        : 'no CPU pinning (taskset missing or one core)') +
      ` · open-file limit ${limit.soft}`,
    `Each stream: ${EVENTS} events (${EVENTS - 1} text pieces stamped with the time the mock wrote them, then the finish), ` +
      `${INTERVAL_MS} ms apart, each its own write; N streams opened evenly over ${OPEN_MS / 1000} s, one connection each. ` +
      `A fresh process per row, warmed up with ${WARMUP_STREAMS} streams; idle RSS is read after them, peak RSS (VmHWM) after the run. ` +
      `The gateway runs with npm start's Node flags (${options.startFlags.join(' ') || 'none'}), the pass-through with Node's defaults` +
      (options.clientKey ? ', the gateway is called with a runtime client key. ' : ', the gateway as an open API. ') +
      'CPU per event and per stream: from the target\'s CPU time (splitCpu in slow-streams.ts; "fit" where no quiet window existed). ' +
      'First byte > 1 s: streams whose first byte took over a second. Listen overflows: connection attempts the ' +
      'kernel dropped during the run because an accept backlog was full (TcpExt ListenOverflows, machine-wide); ' +
      'Linux sends a dropped attempt again after 1 s, then 3, 7… Lag: from the mock writing an event to the client reading it. ' +
      'Load core: how busy core 1 (mock and client) was. No client timeout: a stream fails on an error, a cut-off, ' +
      `a wrong answer, or if it is still open ${SLACK_MS / 1000} s after its due end.`,
  ];
  if (skipped.length > 0) {
    lines.push(
      '',
      `Not measured: ${skipped.join(', ')} streams; the open-file limit (${limit.soft}, hard ${limit.hard}) cannot hold them.`,
    );
  }
  lines.push(
    '',
    '| provider | streams | target | completed | failed | idle RSS (MB) | peak RSS (MB) | memory per stream (KB) | CPU per event (µs) | CPU per stream set-up (ms) | first byte p50 (ms) | first byte p99 (ms) | first byte > 1 s | listen overflows | lag p50 (ms) | lag p99 (ms) | load core (%) |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const { provider, streams, rows } of results) {
    for (const row of rows) {
      const split = row.cpu.method === 'fit' ? ' (fit)' : '';
      lines.push(
        `| ${provider} | ${streams} | ${row.target} | ${row.completed} | ${row.failed} | ${fixed(row.idleRss, 1)} | ` +
          `${fixed(row.peakRss, 1)} | ${fixed(row.perStreamKb, 1)} | ${fixed(row.cpu.perEvent, 1)}${split} | ` +
          `${fixed(row.cpu.perStream / 1000, 3)}${split} | ${fixed(row.firstByteP50, 1)} | ${fixed(row.firstByteP99, 1)} | ${row.lateFirstBytes} | ${fixed(row.listenOverflows, 0)} | ` +
          `${fixed(row.lagP50, 1)} | ${fixed(row.lagP99, 1)} | ${fixed(row.loadCore, 0)} |`,
      );
    }
  }
  const failures = results.flatMap(({ provider, streams, rows }) =>
    rows
      .filter((row) => row.failed > 0)
      .map(
        (row) =>
          `${provider}, ${streams}, ${row.target}: ${[...row.failures].map(([reason, times]) => `${times}× ${reason}`).join(', ')}`,
      ),
  );
  if (failures.length > 0) lines.push('', `Failures: ${failures.join('; ')}.`);
  lines.push(
    '',
    'The gateway as a ratio to the pass-through at the same level, against the targets of the issue "Streams at scale":',
    '',
    "| provider | streams | CPU per event, × pass-through | CPU per set-up, × pass-through | lag p99 beyond the pass-through's (ms) | memory per stream, × pass-through | gateway streams failed |",
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const { provider, streams, rows } of results) {
    const [passthrough, gateway] = rows as [Figures, Figures];
    lines.push(
      `| ${provider} | ${streams} | ${fixed(gateway.cpu.perEvent / passthrough.cpu.perEvent)}× | ` +
        `${fixed(gateway.cpu.perStream / passthrough.cpu.perStream)}× | ${fixed(gateway.lagP99 - passthrough.lagP99, 1)} | ` +
        `${fixed(gateway.perStreamKb / passthrough.perStreamKb)}× | ${gateway.failed} |`,
    );
  }
  lines.push('| target |  | ≤ 2.5× | ≤ 2× | ≤ 20 | ≤ 1.3× | 0 at 6000 |');
  return lines.join('\n');
}
