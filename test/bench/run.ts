import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/*
 * `npm run bench`: what the gateway adds on top of the upstream, measured against a bare Node
 * pass-through proxy in the same run. See the README's Performance section for what it means.
 *   BENCH_DURATION  seconds per measured load run (default 5)
 *   BENCH_ROUNDS    rounds per target; the report shows medians (default 3)
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_SECONDS = 2;
const CONNECTIONS = 32;
const MANY_STREAMS = 256;

type Mode = 'json' | 'stream';
type TargetName = 'upstream (direct)' | 'pass-through' | 'gateway';

interface Target {
  name: TargetName;
  url: string;
  /** The request body for a mode: GigaChat's format for the mock and the pass-through, OpenAI's for the gateway. */
  body: (mode: Mode) => string;
  headers: Record<string, string>;
  pid?: number;
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  /** Median latency of sequential requests on one connection, ms. */
  single: number;
  /** Median time to the first body byte on one connection, ms (streams). */
  firstByte: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

const CORES = os.availableParallelism();
const canPin = CORES >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

function launch(core: number, args: string[], env: Record<string, string> = {}): ChildProcess {
  const command = canPin ? 'taskset' : process.execPath;
  const argv = canPin ? ['-c', String(core), process.execPath, ...args] : args;
  return spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Starts a helper script that prints `{"port": N}` and returns its port. */
async function startScript(
  core: number,
  script: string,
  args: string[] = [],
): Promise<{ child: ChildProcess; port: number }> {
  const child = launch(core, [join(HERE, script), ...args]);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (data: Buffer) => resolve(JSON.parse(String(data)).port));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, port };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} never came up`);
}

/** Peak and current resident memory of a process, in MB (Linux /proc). */
function memory(pid: number | undefined): { peak: number; now: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
    return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

async function load(target: Target, mode: Mode, connections: number, seconds: number): Promise<autocannon.Result> {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: target.body(mode),
    connections,
    duration: seconds,
  });
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${target.name} ${mode}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  }
  return result;
}

/** Sequential requests on one keep-alive connection: time to the first body byte and to the end. */
async function sequential(
  target: Target,
  mode: Mode,
  seconds: number,
): Promise<{ firstByte: number[]; total: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const body = target.body(mode);
  const firstByte: number[] = [];
  const total: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    await new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const request = http.request(
        target.url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...target.headers },
        },
        (response) => {
          let first = true;
          response.on('data', () => {
            if (first) firstByte.push(performance.now() - started);
            first = false;
          });
          response.on('end', () => {
            total.push(performance.now() - started);
            resolve();
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
  agent.destroy();
  return { firstByte, total };
}

async function measure(target: Target, mode: Mode): Promise<Figures> {
  await load(target, mode, CONNECTIONS, WARMUP_SECONDS);
  const rounds: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const loaded = await load(target, mode, CONNECTIONS, DURATION);
    const single = await sequential(target, mode, Math.max(1, DURATION / 2));
    rounds.push({
      rps: loaded.requests.average,
      p50: loaded.latency.p50,
      p99: loaded.latency.p99,
      single: median(single.total),
      firstByte: median(single.firstByte),
    });
  }
  const pick = (key: keyof Figures) => median(rounds.map((round) => round[key]));
  return { rps: pick('rps'), p50: pick('p50'), p99: pick('p99'), single: pick('single'), firstByte: pick('firstByte') };
}

const openaiBody = (mode: Mode) =>
  JSON.stringify({
    model: 'GigaChat',
    messages: [{ role: 'user', content: "Say 'Hello' and nothing else" }],
    ...(mode === 'stream' ? { stream: true } : {}),
  });
// What the gateway sends GigaChat for openaiBody: the mock and the pass-through get the same bytes.
const gigachatBody = openaiBody;

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  if (canPin) spawnSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const storeDir = mkdtempSync(join(os.tmpdir(), 'gateway-bench-'));
  const children: ChildProcess[] = [];
  try {
    const upstream = await startScript(1, 'upstream-mock.ts');
    children.push(upstream.child);
    const passthrough = await startScript(0, 'passthrough.ts', [String(upstream.port)]);
    children.push(passthrough.child);
    const gatewayPort = await freePort();
    const gateway = launch(0, [join(ROOT, 'gateway/main.ts')], {
      PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      STORE_URL: `sqlite://${join(storeDir, 'bench.sqlite')}`,
      GIGACHAT_CREDENTIALS: Buffer.from('bench:bench').toString('base64'),
      GIGACHAT_AUTH_URL: `http://127.0.0.1:${upstream.port}/api/v2/oauth`,
      GIGACHAT_BASE_URL: `http://127.0.0.1:${upstream.port}/api/v1`,
    });
    children.push(gateway);
    gateway.stdout?.resume(); // one access-log line per request, as in production, read and dropped
    await waitUntilUp(`http://127.0.0.1:${gatewayPort}/healthz`);

    const targets: Target[] = [
      {
        name: 'upstream (direct)',
        url: `http://127.0.0.1:${upstream.port}/api/v1/chat/completions`,
        body: gigachatBody,
        headers: { authorization: 'Bearer bench-token' },
        pid: upstream.child.pid,
      },
      {
        name: 'pass-through',
        url: `http://127.0.0.1:${passthrough.port}/`,
        body: gigachatBody,
        headers: {},
        pid: passthrough.child.pid,
      },
      {
        name: 'gateway',
        url: `http://127.0.0.1:${gatewayPort}/v1/chat/completions`,
        body: openaiBody,
        headers: {},
        pid: gateway.pid,
      },
    ];
    // taskset execs node, so the pids are the node processes' own.
    const passthroughTarget = targets[1] as Target;
    const gatewayTarget = targets[2] as Target;

    const results = new Map<string, Figures>();
    for (const mode of ['json', 'stream'] as const) {
      for (const target of targets) {
        process.stderr.write(`bench: ${mode} ${target.name}…\n`);
        results.set(`${mode}/${target.name}`, await measure(target, mode));
      }
    }
    const rssAt32 = { passthrough: memory(passthroughTarget.pid), gateway: memory(gatewayTarget.pid) };
    process.stderr.write(`bench: ${MANY_STREAMS} concurrent streams…\n`);
    await load(passthroughTarget, 'stream', MANY_STREAMS, DURATION);
    await load(gatewayTarget, 'stream', MANY_STREAMS, DURATION);
    const rssAt256 = { passthrough: memory(passthroughTarget.pid), gateway: memory(gatewayTarget.pid) };

    const report = render(results, rssAt32, rssAt256);
    process.stdout.write(`${report}\n`);
    const resultsDir = join(HERE, 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'latest.md'), `${report}\n`);
    process.stderr.write(`bench: written to test/bench/results/latest.md\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(storeDir, { recursive: true, force: true });
  }
}

function render(
  results: Map<string, Figures>,
  rssAt32: Record<'passthrough' | 'gateway', { peak: number } | undefined>,
  rssAt256: Record<'passthrough' | 'gateway', { peak: number } | undefined>,
): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# Benchmark: GigaChat through the gateway',
    '',
    `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${cpu} · ${CORES} cores · ` +
      (canPin
        ? 'gateway and pass-through pinned to core 0, upstream mock and load generator (autocannon) to core 1'
        : 'no CPU pinning (taskset missing or one core)'),
    `Medians of ${ROUNDS} rounds of ${DURATION} s after a ${WARMUP_SECONDS} s warm-up. Latency "@1" is sequential requests on one keep-alive connection.`,
    '',
    '| provider | mode | target | req/s @32 | p50 @32 (ms) | p99 @32 (ms) | latency @1 (ms) | added @1 (ms) | first byte @1 (ms) | added first byte (ms) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const mode of ['json', 'stream'] as const) {
    const direct = results.get(`${mode}/upstream (direct)`) as Figures;
    for (const name of ['upstream (direct)', 'pass-through', 'gateway'] as const) {
      const figures = results.get(`${mode}/${name}`) as Figures;
      const added = name === 'upstream (direct)' ? '' : fixed(figures.single - direct.single, 3);
      const addedFirst =
        mode === 'json' || name === 'upstream (direct)' ? '' : fixed(figures.firstByte - direct.firstByte, 3);
      lines.push(
        `| GigaChat | ${mode} | ${name} | ${Math.round(figures.rps)} | ${fixed(figures.p50)} | ${fixed(figures.p99)} | ${fixed(figures.single, 3)} | ${added} | ${mode === 'stream' ? fixed(figures.firstByte, 3) : ''} | ${addedFirst} |`,
      );
    }
  }
  lines.push(
    '',
    `| process | peak RSS after the @32 runs (MB) | peak RSS after ${MANY_STREAMS} concurrent streams (MB) |`,
    '|---|---:|---:|',
    `| pass-through | ${fixed(rssAt32.passthrough?.peak ?? Number.NaN, 1)} | ${fixed(rssAt256.passthrough?.peak ?? Number.NaN, 1)} |`,
    `| gateway | ${fixed(rssAt32.gateway?.peak ?? Number.NaN, 1)} | ${fixed(rssAt256.gateway?.peak ?? Number.NaN, 1)} |`,
    '',
    'Gateway as a ratio to the bare pass-through measured in the same run:',
    '',
    '| figure | json | stream | target |',
    '|---|---:|---:|---|',
  );
  const ratio = (mode: Mode) => {
    const gateway = results.get(`${mode}/gateway`) as Figures;
    const passthrough = results.get(`${mode}/pass-through`) as Figures;
    return {
      throughput: `${fixed((100 * gateway.rps) / passthrough.rps, 0)} %`,
      added: fixed(gateway.single - passthrough.single, 3),
      firstByte: fixed(gateway.firstByte - passthrough.firstByte, 3),
    };
  };
  const json = ratio('json');
  const stream = ratio('stream');
  const rss = (record: typeof rssAt32) =>
    `${fixed((record.gateway?.peak ?? Number.NaN) / (record.passthrough?.peak ?? Number.NaN), 2)}×`;
  lines.push(
    `| throughput @32, % of pass-through | ${json.throughput} | ${stream.throughput} | ≥ 80 % |`,
    `| latency @1 added beyond the pass-through's (ms) | ${json.added} | ${stream.added} | ≤ 0.2 ms |`,
    `| first stream byte after the pass-through's (ms) | | ${stream.firstByte} | ≤ 1 ms |`,
    `| peak RSS, × pass-through (@32 / @${MANY_STREAMS} streams) | ${rss(rssAt32)} | ${rss(rssAt256)} | ≤ 1.3× |`,
  );
  return lines.join('\n');
}

await main();
