import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const MAIN = join(import.meta.dirname, '../../gateway/main.ts');

export interface GatewayProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Emits `output` whenever a collected stream writes, so waitFor looks again at once. */
const output = new EventEmitter().setMaxListeners(0);

/** Collects a child's stream into `lines`, for waitFor. */
export function collect(stream: Readable | null, lines: string[]): void {
  stream?.on('data', (data: Buffer) => {
    lines.push(String(data));
    output.emit('output');
  });
}

/** Runs `node gateway/main.ts` (what `npm start` runs) with only the given environment. */
export function spawnGateway(env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collect(child.stdout, stdout);
  collect(child.stderr, stderr);
  return {
    child,
    stdout,
    stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Resolves as soon as the collected output matches; fails with the output so far after `timeoutMs`. */
export function waitFor(lines: string[], pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = lines.join('').match(pattern);
      if (match === null) return;
      stop();
      resolve(match);
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`never saw ${pattern} in: ${lines.join('')}`));
    }, timeoutMs);
    const stop = () => {
      clearTimeout(timer);
      output.off('output', check);
    };
    output.on('output', check);
    check();
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
