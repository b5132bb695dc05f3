import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const MAIN = join(import.meta.dirname, '../../gateway/main.ts');

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GatewayProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves once the process has exited and all it wrote is in `stdout` and `stderr` ('exit' may come before). */
  exited: Promise<ProcessExit>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

// The stream each collected output comes from, so `waitFor` can wait on its next piece.
const sources = new WeakMap<string[], Readable>();

/** Collects what a child process writes to one of its streams, as it comes; `waitFor` waits on it. */
export function collectOutput(stream: Readable | null): string[] {
  const pieces: string[] = [];
  if (stream === null) return pieces;
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => pieces.push(text));
  sources.set(pieces, stream);
  return pieces;
}

/** Runs `node gateway/main.ts` (what `npm start` runs) with only the given environment. */
export function spawnGateway(env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
  const stdout = collectOutput(child.stdout);
  const stderr = collectOutput(child.stderr);
  const exited = once(child, 'close').then(([code, signal]) => ({ code, signal }) as ProcessExit);
  return {
    child,
    stdout,
    stderr,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return (await exited).code;
    },
  };
}

/**
 * Resolves once the output collected by `collectOutput` matches, checking again on each piece that
 * arrives; fails with the output so far when the stream ends first, or after `timeoutMs` (a bound
 * for a process that hangs, far above what a busy machine needs).
 */
export function waitFor(output: string[], pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const source = sources.get(output);
  if (source === undefined) throw new Error('waitFor needs output gathered by collectOutput');
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const match = output.join('').match(pattern);
      if (match === null) return false;
      stop();
      resolve(match);
      return true;
    };
    const fail = (why: string) => () => {
      stop();
      reject(new Error(`never saw ${pattern} (${why}) in: ${output.join('')}`));
    };
    const ended = fail('the output ended');
    const timer = setTimeout(fail(`not within ${timeoutMs} ms`), timeoutMs);
    const stop = () => {
      clearTimeout(timer);
      source.off('data', check);
      source.off('end', ended);
    };
    // Registered after collectOutput's own listener, so each piece is in `output` when this runs.
    source.on('data', check);
    source.once('end', ended);
    if (!check() && source.readableEnded) ended();
  });
}

/** Starts a gateway process and resolves with its URL once it listens. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess & { url: string }> {
  const gateway = spawnGateway({ PORT: '0', ...env });
  try {
    const [, url] = await waitFor(gateway.stdout, /listening on (http:\/\/[^"]+)/);
    return { ...gateway, url: url as string };
  } catch (error) {
    gateway.child.kill('SIGKILL'); // a process that never listened must not outlive the test
    throw error;
  }
}
