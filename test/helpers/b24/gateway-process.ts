import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
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
  /** Emits `output` on every new piece of output and when the process has ended. */
  readonly #output = new EventEmitter();

  constructor(env: Record<string, string>) {
    this.env = env;
  }

  get url(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  /** Starts the process and waits until the Bitrix24 app has started (its jobs resumed). */
  async start(): Promise<void> {
    const from = this.spawn();
    // `gateway: …` is main.ts's one-line start-up failure; a crash ends the process, which waitForLog reports.
    const line = await this.waitForLog(/Bitrix24 app: ready|^gateway: /, 8000, from);
    if (!line.includes('Bitrix24 app: ready')) throw new Error(`the gateway did not start:\n${this.log()}`);
  }

  /** Starts the process without waiting; returns the index of its first line in `lines`. */
  spawn(): number {
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
      this.#output.emit('output');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('close', () => this.#output.emit('output'));
    return from;
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

  /** Resolves with the first line from `from` on that matches, as soon as it is written. */
  waitForLog(pattern: RegExp, timeoutMs = 8000, from = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = [...this.lines.slice(from), this.#partial].find((line) => pattern.test(line));
        const child = this.child;
        const ended = child !== undefined && (child.exitCode !== null || child.signalCode !== null);
        if (found === undefined && !ended) return;
        stop();
        if (found !== undefined) resolve(found);
        else reject(new Error(`never saw ${pattern} in the gateway log:\n${this.log()}`));
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`never saw ${pattern} in the gateway log within ${timeoutMs} ms:\n${this.log()}`));
      }, timeoutMs);
      const stop = () => {
        clearTimeout(timer);
        this.#output.off('output', check);
      };
      this.#output.on('output', check);
      check();
    });
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
