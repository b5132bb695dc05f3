import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '../../../gateway/main.ts');

/** A port that was free a moment ago: PUBLIC_URL must name the port before the process starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `node gateway/main.ts` — what `npm start` runs — as a child process, so the fake portal's CA can
 * be trusted the way an operator would: through NODE_EXTRA_CA_CERTS, read at process start.
 */
export class GatewayProcess {
  readonly env: Record<string, string>;
  child: ChildProcess | undefined;
  /** Every stdout/stderr line of every run, in order. */
  readonly lines: string[] = [];
  #partial = '';

  constructor(env: Record<string, string>) {
    this.env = env;
  }

  get url(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  /** Starts the process and waits for the Bitrix24 app to be up. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: 'pipe',
    });
    this.child = child;
    const from = this.lines.length;
    const collect = (data: Buffer) => {
      const text = this.#partial + String(data);
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      this.lines.push(...lines);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const line = await this.waitForLog(/Bitrix24 app: enabled|configuration error|Error/, 8000, from);
    if (!line.includes('Bitrix24 app: enabled')) throw new Error(`the gateway did not start:\n${this.log()}`);
  }

  log(): string {
    return [...this.lines, this.#partial].join('\n');
  }

  /** Log lines as parsed JSON (the pino lines). */
  entries(): Array<Record<string, any>> {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
  }

  async waitForLog(pattern: RegExp, timeoutMs = 8000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = [...this.lines.slice(from), this.#partial].find((line) => pattern.test(line));
      if (found !== undefined) return found;
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`never saw ${pattern} in the gateway log:\n${this.log()}`);
  }

  /** SIGTERM, and wait for the exit. */
  async stop(): Promise<void> {
    await this.#end('SIGTERM');
  }

  /** SIGKILL: the process dies at once, with no shutdown code run. */
  async kill(): Promise<void> {
    await this.#end('SIGKILL');
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}
