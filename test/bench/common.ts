import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_GEMINI_KEY, BENCH_GIGACHAT_TOKEN } from './credentials.ts';

/*
 * What both modes of `npm run bench` share (run.ts, slow-streams.ts): the upstreams' requests, the
 * child processes pinned to their cores, and what /proc says of them.
 */

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '../..');
export const ADMIN_KEY = 'bench-admin-key-0123456789';

export type Mode = 'json' | 'stream';
export type ProviderName = 'GigaChat' | 'Gemini';

/** What one provider's upstream expects: the same prompt, in its own wire format. */
export interface Upstream {
  provider: ProviderName;
  /** The model the gateway is asked for. */
  model: string;
  path: (mode: Mode) => string;
  body: (mode: Mode) => string;
  headers: Record<string, string>;
}

export const PROMPT = "Say 'Hello' and nothing else";
export const openaiBody = (model: string) => (mode: Mode) =>
  JSON.stringify({
    model,
    messages: [{ role: 'user', content: PROMPT }],
    ...(mode === 'stream' ? { stream: true } : {}),
  });

// Each upstream body is what the gateway sends for openaiBody and responsesBody: the mock and the pass-through get the same bytes.
export const UPSTREAMS: readonly Upstream[] = [
  {
    provider: 'GigaChat',
    model: 'GigaChat',
    path: () => '/api/v1/chat/completions',
    body: openaiBody('GigaChat'),
    headers: { authorization: `Bearer ${BENCH_GIGACHAT_TOKEN}` },
  },
  {
    provider: 'Gemini',
    model: 'gemini-2.5-flash',
    path: (mode) =>
      `/v1beta/models/gemini-2.5-flash:${mode === 'stream' ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
    body: () => JSON.stringify({ contents: [{ parts: [{ text: PROMPT }], role: 'user' }], generationConfig: {} }),
    headers: { 'x-goog-api-key': BENCH_GEMINI_KEY },
  },
];

/** The gateway's environment in the bench: both providers on the mock, a SQLite store, a runtime admin key when asked. */
export function gatewayEnv(
  gatewayPort: number,
  upstreamPort: number,
  storeFile: string,
  adminKey: boolean,
): Record<string, string> {
  return {
    PORT: String(gatewayPort),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    STORE_URL: `sqlite://${storeFile}`,
    GIGACHAT_CREDENTIALS: Buffer.from('bench:bench').toString('base64'),
    GIGACHAT_AUTH_URL: `http://127.0.0.1:${upstreamPort}/api/v2/oauth`,
    GIGACHAT_BASE_URL: `http://127.0.0.1:${upstreamPort}/api/v1`,
    GEMINI_API_KEY: BENCH_GEMINI_KEY,
    GEMINI_BASE_URL: `http://127.0.0.1:${upstreamPort}`,
    ...(adminKey ? { GATEWAY_ADMIN_KEY: ADMIN_KEY } : {}),
  };
}

/** What turns the Bitrix24 app on, as the tests do: a local PUBLIC_URL and dummy OAuth keys. */
export const B24_ENV = (gatewayPort: number): Record<string, string> => ({
  PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
  B24_CLIENT_ID: 'local.bench0000000000.00000000',
  B24_CLIENT_SECRET: 'bench-client-secret-0123456789abcdef',
});

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** The value below which `share` (0–1) of the sorted values lie. */
export const percentile = (sorted: ArrayLike<number>, share: number): number =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] as number);

export const CORES = os.availableParallelism();
export const canPin = CORES >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

export function launch(core: number, args: string[], env: Record<string, string> = {}): ChildProcess {
  const command = canPin ? 'taskset' : process.execPath;
  const argv = canPin ? ['-c', String(core), process.execPath, ...args] : args;
  return spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Starts a helper script that prints `{"port": N}` and returns its port. */
export async function startScript(
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

/** Stops a child and waits until it has exited. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A tenant's key as an operator makes it: a model list and a monthly budget far above what the run spends. */
export async function makeClientKey(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench-tenant', models: ['*'], monthlyTokenBudget: 1e15 }),
  });
  if (response.status !== 201) throw new Error(`POST /admin/keys answered ${response.status}`);
  return ((await response.json()) as { key: string }).key;
}

export async function waitUntilUp(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${url} never came up`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (user and system) a process has used so far, µs (Linux /proc; NaN elsewhere). */
export function cpuMicros(pid: number | undefined): number {
  try {
    // Fields after the command name; utime and stime are the 12th and 13th, in clock ticks (100 Hz on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

function statusMegabytes(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident memory of a process so far, in MB (Linux /proc; NaN elsewhere). */
export const peakRss = (pid: number | undefined): number => statusMegabytes(pid, 'VmHWM');

/** Resident memory of a process now, in MB (Linux /proc; NaN elsewhere). */
export const currentRss = (pid: number | undefined): number => statusMegabytes(pid, 'VmRSS');

export const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
