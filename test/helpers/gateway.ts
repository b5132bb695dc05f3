import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import type { Env } from '../../gateway/config.ts';
import { type RunningGateway, startGateway } from '../../gateway/main.ts';

export interface TestGateway extends RunningGateway {
  /** The official OpenAI SDK pointed at the gateway, without retries so every error surfaces. */
  client: OpenAI;
  /** Every log line the gateway wrote. */
  logs: string[];
  /**
   * Resolves with the first line in `logs`, from index `from` on, that `matches`, as soon as it is
   * written; fails with the lines so far after `timeoutMs` (a bound far above what a busy machine needs).
   */
  waitForLog(matches: (line: string) => boolean, from?: number, timeoutMs?: number): Promise<string>;
  /** Folder of the SQLite store; removed by `close` unless `keepDir`. */
  dir: string;
}

/** A fresh folder for a SQLite store. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'gateway-test-'));
}

/** Starts the real gateway on an ephemeral loopback port with its own SQLite file. */
export async function startTestGateway(
  env: Env = {},
  options: { dir?: string; keepDir?: boolean } = {},
): Promise<TestGateway> {
  const dir = options.dir ?? tempDir();
  const logs: string[] = [];
  const written = new EventEmitter();
  const logDestination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      written.emit('line');
      callback();
    },
  });
  async function waitForLog(matches: (line: string) => boolean, from = 0, timeoutMs = 30_000): Promise<string> {
    const signal = AbortSignal.timeout(timeoutMs);
    let checked = from;
    for (;;) {
      for (; checked < logs.length; checked++) if (matches(logs[checked] as string)) return logs[checked] as string;
      try {
        await once(written, 'line', { signal });
      } catch {
        throw new Error(`no matching log line within ${timeoutMs} ms:\n${logs.slice(from).join('')}`);
      }
    }
  }
  const gateway = await startGateway(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      STORE_URL: `sqlite://${join(dir, 'store.sqlite')}`,
      FILES_DIR: join(dir, 'files'),
      // Each upstream failure maps to one answer; the retry tests turn retries on themselves.
      UPSTREAM_RETRIES: '0',
      ...env,
    },
    { logDestination },
  );
  const apiKey = env.GATEWAY_API_KEYS?.split(',')[0]?.split(':').pop() ?? 'no-key-needed';
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
  return {
    ...gateway,
    client,
    logs,
    waitForLog,
    dir,
    async close() {
      await gateway.close();
      if (options.keepDir !== true) rmSync(dir, { recursive: true, force: true });
    },
  };
}
