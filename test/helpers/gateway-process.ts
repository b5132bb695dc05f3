import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '../../gateway/main.ts');

export interface GatewayProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `node gateway/main.ts` (what `npm start` runs) with only the given environment. */
export function spawnGateway(env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (data: Buffer) => stdout.push(String(data)));
  child.stderr?.on('data', (data: Buffer) => stderr.push(String(data)));
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

/** Waits until the collected output matches, polling; fails with the output so far. */
export async function waitFor(lines: string[], pattern: RegExp): Promise<RegExpMatchArray> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const match = lines.join('').match(pattern);
    if (match !== null) return match;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never saw ${pattern} in: ${lines.join('')}`);
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
