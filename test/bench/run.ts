import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startFlags } from '../helpers/start-flags.ts';
import {
  B24_ENV,
  CORES,
  canPin,
  cpuMicros,
  currentRss,
  fixed,
  freePort,
  gatewayEnv,
  HERE,
  launch,
  type Mode,
  makeClientKey,
  median,
  openaiBody,
  PROMPT,
  type ProviderName,
  peakRss,
  ROOT,
  sleep,
  startScript,
  stop,
  UPSTREAMS,
  type Upstream,
  waitUntilUp,
} from './common.ts';
import { parseLevels, runSlowStreams } from './slow-streams.ts';

/*
 * `npm run bench`: what the gateway adds on top of the upstream, measured against a bare Node
 * pass-through proxy in the same run, and what its Responses API costs next to its chat
 * completions for the same prompt and answer. docs/performance.md says what it means.
 *   BENCH_DURATION  seconds per measured load run (default 5)
 *   BENCH_ROUNDS    rounds per target; the report shows medians (default 3)
 *   BENCH_ONLY      `gigachat` or `gemini`: measure one provider
 *   BENCH_CPU_PROF  a folder: the gateway writes a V8 CPU profile there when it stops
 *   BENCH_REFERENCE 1: also measure bare-translator.ts, the least a translator must do (GigaChat only)
 *   BENCH_STREAM_WRITES  `whole`: the mock writes a stream's events in one piece instead of each
 *                   on its own as a model does (upstream-mock.ts)
 *   BENCH_CLIENT_KEY `none`: call the gateway as an open API, without a key; by default it calls with
 *                   a key made at run time (POST /admin/keys) that has a monthly token budget
 *   BENCH_STREAMS   the slow-streams mode instead (slow-streams.ts): `1` for 1,000, 3,000 and 6,000
 *                   concurrent streams, or the levels as a list (`BENCH_STREAMS=500,2000`); each stream
 *                   40 events 250 ms apart, opened over 5 s, on the gateway and on the pass-through.
 *                   It raises the open-file limit as far as the machine allows (prlimit) and skips,
 *                   saying so, a level the limit cannot hold. BENCH_ONLY, BENCH_CLIENT_KEY and
 *                   BENCH_CPU_PROF (the gateway's profile of each level, in turn) apply.
 * The default mode also reports the footprint: idle RSS of the pass-through and of a gateway with
 * both providers and the Bitrix24 app enabled, next to their peak RSS at 32 connections.
 */

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_SECONDS = 2;
const CONNECTIONS = 32;
const MANY_STREAMS = 256;
// How long a process is left alone after start-up before its idle RSS is read.
const IDLE_SETTLE_MS = 1000;
const ONLY = process.env.BENCH_ONLY?.toLowerCase();
const REFERENCE = process.env.BENCH_REFERENCE === '1';
const CLIENT_KEY = process.env.BENCH_CLIENT_KEY !== 'none';
const STREAM_WRITES =
  process.env.BENCH_STREAM_WRITES === 'whole'
    ? 'written by the mock in one piece (BENCH_STREAM_WRITES=whole)'
    : 'each written by the mock on its own, one turn of its event loop apart';
// The gateway runs with the Node flags `npm start` gives it (the young generation's cap, docs/performance.md).
const START_FLAGS = startFlags();
const PROFILE_FLAGS =
  process.env.BENCH_CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`];

type TargetName =
  | 'upstream (direct)'
  | 'pass-through'
  | 'bare translator'
  | 'gateway'
  | 'gateway (Responses)'
  | 'gateway (Responses, store: false)';
const MODES: readonly Mode[] = ['json', 'stream'];
const CHAT_TARGETS: readonly TargetName[] = ['upstream (direct)', 'pass-through', 'bare translator', 'gateway'];
// The same gateway process, on POST /v1/responses; its upstream calls are chat's, so the chat rows are its reference.
const RESPONSES_TARGETS: readonly TargetName[] = ['gateway (Responses)', 'gateway (Responses, store: false)'];
const TARGETS: readonly TargetName[] = [...CHAT_TARGETS, ...RESPONSES_TARGETS];

interface Target {
  name: TargetName;
  /** The modes it is measured in; both when absent. */
  modes?: readonly Mode[];
  url: (mode: Mode) => string;
  /** The request body for a mode: the upstream's format for the mock and the pass-through, OpenAI's for the gateway. */
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
  /** CPU time the target's process spent per request at 32 connections, µs (Linux /proc). */
  cpu: number;
}

// store defaults to true, as at OpenAI and in its SDKs, which leave it out: every response is written to the store.
const responsesBody =
  (model: string, store = true) =>
  (mode: Mode) =>
    JSON.stringify({
      model,
      input: PROMPT,
      ...(store ? {} : { store: false }),
      ...(mode === 'stream' ? { stream: true } : {}),
    });

async function load(target: Target, mode: Mode, connections: number, seconds: number): Promise<autocannon.Result> {
  const result = await autocannon({
    url: target.url(mode),
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
  const url = target.url(mode);
  const body = target.body(mode);
  const firstByte: number[] = [];
  const total: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    await new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const request = http.request(
        url,
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
    const cpuBefore = cpuMicros(target.pid);
    const loaded = await load(target, mode, CONNECTIONS, DURATION);
    const cpu = (cpuMicros(target.pid) - cpuBefore) / loaded.requests.total;
    const single = await sequential(target, mode, Math.max(1, DURATION / 2));
    rounds.push({
      rps: loaded.requests.average,
      p50: loaded.latency.p50,
      p99: loaded.latency.p99,
      single: median(single.total),
      firstByte: median(single.firstByte),
      cpu,
    });
  }
  const pick = (key: keyof Figures) => median(rounds.map((round) => round[key]));
  return {
    rps: pick('rps'),
    p50: pick('p50'),
    p99: pick('p99'),
    single: pick('single'),
    firstByte: pick('firstByte'),
    cpu: pick('cpu'),
  };
}

interface Memory {
  /** Peak RSS after the runs at 32 connections, MB. */
  at32: number;
  /** Peak RSS after the run with MANY_STREAMS concurrent streams, MB. */
  atMany: number;
}

interface ProviderResults {
  figures: Map<string, Figures>;
  memory: Record<'passthrough' | 'gateway', Memory>;
  /** RSS after start-up, before any load, MB: the pass-through, the measured gateway, and one with the Bitrix24 app. */
  idle: Record<'passthrough' | 'gateway' | 'gatewayB24', number>;
  /** The gateway's peak RSS after the Responses runs, which come last, MB. */
  gatewayAfterResponses: number;
}

/**
 * Measures one provider: a fresh pass-through and gateway (so each provider's peak memory is its
 * own), each loaded in turn with the upstream measured directly alongside.
 */
async function measureProvider(
  upstream: Upstream,
  { port: upstreamPort, child: { pid: upstreamPid } }: { port: number; child: ChildProcess },
  storeDir: string,
): Promise<ProviderResults> {
  const children: ChildProcess[] = [];
  try {
    const passthrough = await startScript(0, 'passthrough.ts', [String(upstreamPort)]);
    children.push(passthrough.child);
    const bare =
      REFERENCE && upstream.provider === 'GigaChat'
        ? await startScript(0, 'bare-translator.ts', [String(upstreamPort)])
        : undefined;
    if (bare !== undefined) children.push(bare.child);
    const storeFile = (name: string) => join(storeDir, `${upstream.provider}${name}.sqlite`);
    const idleB24 = await idleWithB24(upstreamPort, storeFile('-b24'));
    const gatewayPort = await freePort();
    const gateway = launch(
      0,
      [...START_FLAGS, ...PROFILE_FLAGS, join(ROOT, 'gateway/main.ts')],
      gatewayEnv(gatewayPort, upstreamPort, storeFile(''), CLIENT_KEY),
    );
    children.push(gateway);
    gateway.stdout?.resume(); // one access-log line per request, as in production, read and dropped
    await waitUntilUp(`http://127.0.0.1:${gatewayPort}/healthz`);
    const clientHeaders: Record<string, string> = CLIENT_KEY
      ? { authorization: `Bearer ${await makeClientKey(gatewayPort)}` }
      : {};
    await sleep(IDLE_SETTLE_MS);
    const idle = {
      passthrough: currentRss(passthrough.child.pid),
      gateway: currentRss(gateway.pid),
      gatewayB24: idleB24,
    };

    const direct = `http://127.0.0.1:${upstreamPort}`;
    // taskset execs node, so the pids are the node processes' own.
    const translator = (name: TargetName, port: number, pid: number | undefined): Target => ({
      name,
      url: () => `http://127.0.0.1:${port}/v1/chat/completions`,
      body: openaiBody(upstream.model),
      headers: {},
      pid,
    });
    const passthroughTarget: Target = {
      name: 'pass-through',
      url: (mode) => `http://127.0.0.1:${passthrough.port}${upstream.path(mode)}`,
      body: upstream.body,
      headers: {},
      pid: passthrough.child.pid,
    };
    const gatewayTarget = { ...translator('gateway', gatewayPort, gateway.pid), headers: clientHeaders };
    const responsesTarget = (name: TargetName, store: boolean): Target => ({
      ...gatewayTarget,
      name,
      url: () => `http://127.0.0.1:${gatewayPort}/v1/responses`,
      body: responsesBody(upstream.model, store),
    });
    const targets: Partial<Record<TargetName, Target>> = {
      'upstream (direct)': {
        name: 'upstream (direct)',
        url: (mode) => direct + upstream.path(mode),
        body: upstream.body,
        headers: upstream.headers,
        pid: upstreamPid,
      },
      'pass-through': passthroughTarget,
      'bare translator': bare === undefined ? undefined : translator('bare translator', bare.port, bare.child.pid),
      gateway: gatewayTarget,
      'gateway (Responses)': responsesTarget('gateway (Responses)', true),
      'gateway (Responses, store: false)': {
        ...responsesTarget('gateway (Responses, store: false)', false),
        modes: ['json'],
      },
    };

    const figures = new Map<string, Figures>();
    const measureAll = async (names: readonly TargetName[]) => {
      for (const mode of MODES) {
        for (const name of names) {
          const target = targets[name];
          if (target === undefined || !(target.modes ?? MODES).includes(mode)) continue;
          process.stderr.write(`bench: ${upstream.provider} ${mode} ${name}…\n`);
          figures.set(`${mode}/${name}`, await measure(target, mode));
        }
      }
    };
    await measureAll(CHAT_TARGETS);
    const at32 = { passthrough: peakRss(passthrough.child.pid), gateway: peakRss(gateway.pid) };
    process.stderr.write(`bench: ${upstream.provider} ${MANY_STREAMS} concurrent streams…\n`);
    await load(passthroughTarget, 'stream', MANY_STREAMS, DURATION);
    await load(gatewayTarget, 'stream', MANY_STREAMS, DURATION);
    const memory = {
      passthrough: { at32: at32.passthrough, atMany: peakRss(passthrough.child.pid) },
      gateway: { at32: at32.gateway, atMany: peakRss(gateway.pid) },
    };
    // Last, so the memory figures above are chat's alone, as they were before the Responses API.
    await measureAll(RESPONSES_TARGETS);
    return { figures, memory, idle, gatewayAfterResponses: peakRss(gateway.pid) };
  } finally {
    for (const child of children) await stop(child);
  }
}

/**
 * Idle RSS of a gateway as a full deployment runs it: both providers and the Bitrix24 app enabled
 * (a local PUBLIC_URL and dummy OAuth keys, as the tests use), started, asked once for its health,
 * left alone for a moment, then stopped; MB.
 */
async function idleWithB24(upstreamPort: number, storeFile: string): Promise<number> {
  const port = await freePort();
  const gateway = launch(0, [...START_FLAGS, join(ROOT, 'gateway/main.ts')], {
    ...gatewayEnv(port, upstreamPort, storeFile, CLIENT_KEY),
    ...B24_ENV(port),
  });
  try {
    gateway.stdout?.resume();
    await waitUntilUp(`http://127.0.0.1:${port}/healthz`);
    await sleep(IDLE_SETTLE_MS);
    return currentRss(gateway.pid);
  } finally {
    await stop(gateway);
  }
}

async function main(): Promise<void> {
  if (canPin) spawnSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const levels = parseLevels(process.env.BENCH_STREAMS);
  if (levels !== undefined) {
    await runSlowStreams({
      levels,
      only: ONLY,
      clientKey: CLIENT_KEY,
      startFlags: START_FLAGS,
      profileFlags: PROFILE_FLAGS,
    });
    return;
  }
  const storeDir = mkdtempSync(join(os.tmpdir(), 'gateway-bench-'));
  const upstream = await startScript(1, 'upstream-mock.ts');
  try {
    const results = new Map<ProviderName, ProviderResults>();
    for (const provider of UPSTREAMS) {
      if (ONLY === undefined || ONLY === provider.provider.toLowerCase()) {
        results.set(provider.provider, await measureProvider(provider, upstream, storeDir));
      }
    }
    const report = render(results);
    process.stdout.write(`${report}\n`);
    const resultsDir = join(HERE, 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'latest.md'), `${report}\n`);
    process.stderr.write(`bench: written to test/bench/results/latest.md\n`);
  } finally {
    upstream.child.kill('SIGTERM');
    rmSync(storeDir, { recursive: true, force: true });
  }
}

function render(results: Map<ProviderName, ProviderResults>): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# Benchmark: what the gateway adds on top of the upstream',
    '',
    `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${cpu} · ${CORES} cores · ` +
      (canPin
        ? 'gateway and pass-through pinned to core 0, upstream mocks and load generator (autocannon) to core 1'
        : 'no CPU pinning (taskset missing or one core)'),
    `Medians of ${ROUNDS} rounds of ${DURATION} s after a ${WARMUP_SECONDS} s warm-up, at ${CONNECTIONS} connections. ` +
      'Latency "@1" is sequential requests on one keep-alive connection; "added" is over calling the upstream directly. ' +
      `Streams are 21 events (20 text pieces and the finish), ${STREAM_WRITES}. ` +
      `The gateway runs with npm start's Node flags (${START_FLAGS.join(' ') || 'none'}), the pass-through with Node's defaults. ` +
      (CLIENT_KEY
        ? 'The gateway is called with a client key made at run time that has a model list and a monthly token budget. '
        : 'The gateway is called as an open API, without a client key (BENCH_CLIENT_KEY=none). ') +
      '"gateway (Responses)" is the same gateway on POST /v1/responses with the same prompt (`input` a string), ' +
      'storing every response (store left out, so true, as the SDKs send it); "store: false" does not store it.',
    '',
    '| provider | mode | target | req/s @32 | p50 @32 (ms) | p99 @32 (ms) | CPU per request @32 (µs) | latency @1 (ms) | added @1 (ms) | first byte @1 (ms) | added first byte (ms) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [provider, { figures }] of results) {
    for (const mode of MODES) {
      const direct = figures.get(`${mode}/upstream (direct)`) as Figures;
      for (const name of TARGETS) {
        const row = figures.get(`${mode}/${name}`);
        if (row === undefined) continue;
        const isDirect = name === 'upstream (direct)';
        const added = isDirect ? '' : fixed(row.single - direct.single, 3);
        const firstByte = mode === 'stream' ? fixed(row.firstByte, 3) : '';
        const addedFirst = mode === 'json' || isDirect ? '' : fixed(row.firstByte - direct.firstByte, 3);
        lines.push(
          `| ${provider} | ${mode} | ${name} | ${Math.round(row.rps)} | ${fixed(row.p50)} | ${fixed(row.p99)} | ${fixed(row.cpu, 0)} | ${fixed(row.single, 3)} | ${added} | ${firstByte} | ${addedFirst} |`,
        );
      }
    }
  }
  lines.push(
    '',
    `| provider | process | peak RSS after the @${CONNECTIONS} runs (MB) | peak RSS after ${MANY_STREAMS} concurrent streams (MB) | peak RSS after the Responses runs, which come last (MB) |`,
    '|---|---|---:|---:|---:|',
  );
  for (const [provider, { memory, gatewayAfterResponses }] of results) {
    lines.push(
      `| ${provider} | pass-through | ${fixed(memory.passthrough.at32, 1)} | ${fixed(memory.passthrough.atMany, 1)} |  |`,
      `| ${provider} | gateway | ${fixed(memory.gateway.at32, 1)} | ${fixed(memory.gateway.atMany, 1)} | ${fixed(gatewayAfterResponses, 1)} |`,
    );
  }
  lines.push(
    '',
    'Footprint: RSS after start-up, before any load (the gateway with both providers; with the Bitrix24 app ' +
      'also enabled, a local PUBLIC_URL and dummy OAuth keys, in a gateway of its own started for this), and the ' +
      `peak after the runs at ${CONNECTIONS} connections (the gateway as measured above, without the app):`,
    '',
    `| provider | process | idle RSS (MB) | idle RSS with the Bitrix24 app (MB) | peak RSS @${CONNECTIONS} (MB) | idle, × pass-through | idle with the app, × pass-through | peak @${CONNECTIONS}, × pass-through |`,
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const [provider, { memory, idle }] of results) {
    lines.push(
      `| ${provider} | pass-through | ${fixed(idle.passthrough, 1)} |  | ${fixed(memory.passthrough.at32, 1)} |  |  |  |`,
      `| ${provider} | gateway | ${fixed(idle.gateway, 1)} | ${fixed(idle.gatewayB24, 1)} | ${fixed(memory.gateway.at32, 1)} | ` +
        `${fixed(idle.gateway / idle.passthrough)}× | ${fixed(idle.gatewayB24 / idle.passthrough)}× | ` +
        `${fixed(memory.gateway.at32 / memory.passthrough.at32)}× |`,
    );
  }
  const providers = [...results.keys()];
  lines.push(
    '',
    'Gateway as a ratio to the bare pass-through measured in the same run:',
    '',
    `| figure | ${providers.map((provider) => `${provider} json | ${provider} stream`).join(' | ')} | target |`,
    `|---|${providers.map(() => '---:|---:|').join('')}---|`,
  );
  const cells = (cell: (figures: Map<string, Figures>, memory: ProviderResults['memory'], mode: Mode) => string) =>
    providers
      .flatMap((provider) => {
        const { figures, memory } = results.get(provider) as ProviderResults;
        return MODES.map((mode) => cell(figures, memory, mode));
      })
      .join(' | ');
  const of = (figures: Map<string, Figures>, mode: Mode) => ({
    gateway: figures.get(`${mode}/gateway`) as Figures,
    passthrough: figures.get(`${mode}/pass-through`) as Figures,
  });
  lines.push(
    `| throughput @${CONNECTIONS}, % of pass-through | ${cells((figures, _memory, mode) => {
      const { gateway, passthrough } = of(figures, mode);
      return `${fixed((100 * gateway.rps) / passthrough.rps, 0)} %`;
    })} | ≥ 80 % |`,
    `| CPU per request @${CONNECTIONS}, × pass-through | ${cells((figures, _memory, mode) => {
      const { gateway, passthrough } = of(figures, mode);
      return `${fixed(gateway.cpu / passthrough.cpu, 2)}×`;
    })} | |`,
    `| latency @1 added beyond the pass-through's (ms) | ${cells((figures, _memory, mode) => {
      const { gateway, passthrough } = of(figures, mode);
      return fixed(gateway.single - passthrough.single, 3);
    })} | ≤ 0.2 ms |`,
    `| first stream byte after the pass-through's (ms) | ${cells((figures, _memory, mode) => {
      const { gateway, passthrough } = of(figures, mode);
      return mode === 'stream' ? fixed(gateway.firstByte - passthrough.firstByte, 3) : '';
    })} | ≤ 1 ms |`,
    `| first stream byte after the upstream's (ms) | ${cells((figures, _memory, mode) => {
      const { gateway } = of(figures, mode);
      const direct = figures.get(`${mode}/upstream (direct)`) as Figures;
      return mode === 'stream' ? fixed(gateway.firstByte - direct.firstByte, 3) : '';
    })} | ≤ 1 ms |`,
    `| peak RSS, × pass-through (json: @${CONNECTIONS}; stream: @${MANY_STREAMS} streams) | ${cells(
      (_figures, memory, mode) => {
        const pick = (value: Memory) => (mode === 'json' ? value.at32 : value.atMany);
        return `${fixed(pick(memory.gateway) / pick(memory.passthrough), 2)}×`;
      },
    )} | ≤ 1.3× |`,
  );
  if (REFERENCE) {
    lines.push(
      `| bare translator (reference): throughput @${CONNECTIONS}, % of pass-through | ${cells(
        (figures, _memory, mode) => {
          const bare = figures.get(`${mode}/bare translator`);
          return bare === undefined ? '' : `${fixed((100 * bare.rps) / of(figures, mode).passthrough.rps, 0)} %`;
        },
      )} | |`,
    );
  }
  /** A cell of a Responses case next to chat's on the same gateway; empty where it was not measured. */
  const compared = (name: TargetName, cell: (it: Figures, chat: Figures, mode: Mode) => string) =>
    cells((figures, _memory, mode) => {
      const it = figures.get(`${mode}/${name}`);
      return it === undefined ? '' : cell(it, of(figures, mode).gateway, mode);
    });
  const responses = 'gateway (Responses)';
  const unstored = 'gateway (Responses, store: false)';
  lines.push(
    '',
    'The Responses API next to chat completions on the same gateway, measured in the same run:',
    '',
    `| figure | ${providers.map((provider) => `${provider} json | ${provider} stream`).join(' | ')} |`,
    `|---|${providers.map(() => '---:|---:|').join('')}`,
    `| throughput @${CONNECTIONS}, % of chat's | ${compared(responses, (it, chat) => `${fixed((100 * it.rps) / chat.rps, 0)} %`)} |`,
    `| CPU per request @${CONNECTIONS}, × chat's | ${compared(responses, (it, chat) => `${fixed(it.cpu / chat.cpu, 2)}×`)} |`,
    `| CPU per request @${CONNECTIONS} beyond chat's (µs) | ${compared(responses, (it, chat) => fixed(it.cpu - chat.cpu, 0))} |`,
    `| latency @1 beyond chat's (ms) | ${compared(responses, (it, chat) => fixed(it.single - chat.single, 3))} |`,
    `| first stream byte after chat's (ms) | ${compared(responses, (it, chat, mode) =>
      mode === 'stream' ? fixed(it.firstByte - chat.firstByte, 3) : '',
    )} |`,
    `| throughput @${CONNECTIONS}, % of pass-through | ${cells((figures, _memory, mode) => {
      const it = figures.get(`${mode}/${responses}`) as Figures;
      return `${fixed((100 * it.rps) / of(figures, mode).passthrough.rps, 0)} %`;
    })} |`,
    `| store: false: throughput @${CONNECTIONS}, % of chat's | ${compared(unstored, (it, chat) => `${fixed((100 * it.rps) / chat.rps, 0)} %`)} |`,
    `| store: false: CPU per request @${CONNECTIONS}, × chat's | ${compared(unstored, (it, chat) => `${fixed(it.cpu / chat.cpu, 2)}×`)} |`,
    `| store: false: CPU per request @${CONNECTIONS} beyond chat's (µs) | ${compared(unstored, (it, chat) => fixed(it.cpu - chat.cpu, 0))} |`,
    `| store: false: latency @1 beyond chat's (ms) | ${compared(unstored, (it, chat) => fixed(it.single - chat.single, 3))} |`,
  );
  return lines.join('\n');
}

await main();
