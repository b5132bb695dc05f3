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
  const logDestination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const gateway = await startGateway(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      STORE_URL: `sqlite://${join(dir, 'store.sqlite')}`,
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
    dir,
    async close() {
      await gateway.close();
      if (options.keepDir !== true) rmSync(dir, { recursive: true, force: true });
    },
  };
}
