import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectOutput, waitFor } from './gateway-process.ts';

const installed = () => spawnSync('redis-server', ['--version']).status === 0;

/**
 * Installs Debian's redis-server when it is missing and this user may (root, or sudo without a
 * password), as .ci/run does; the setup's root hook runs it once, before any test, without a timeout.
 */
export async function ensureRedisServer(): Promise<void> {
  if (installed()) return;
  const root = process.getuid?.() === 0;
  const command = root ? [] : ['sudo', '-n'];
  if (!root && spawnSync('sudo', ['-n', 'true']).status !== 0) return; // start() then says what to install
  const run = async (args: string[]) => {
    const [program, ...rest] = [...command, ...args] as [string, ...string[]];
    const child = spawn(program, rest, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    await once(child, 'exit');
  };
  process.stderr.write('test setup: installing redis-server (apt-get) for the shared-store tests\n');
  await run(['apt-get', 'update', '-qq']);
  await run(['apt-get', 'install', '-y', '-qq', 'redis-server']);
}

/** A throwaway redis-server (Debian's package) on a free loopback port, with no persistence. */
export class RedisServer {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;

  private constructor(url: string, child: ChildProcess, dir: string) {
    this.url = url;
    this.#child = child;
    this.#dir = dir;
  }

  static async start(): Promise<RedisServer> {
    if (!installed()) {
      throw new Error('redis-server is not installed: apt-get install redis-server (.ci/run does this)');
    }
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'pipe' },
    );
    await waitFor(collectOutput(child.stdout), /Ready to accept connections/);
    return new RedisServer(`redis://127.0.0.1:${port}`, child, dir);
  }

  async stop(): Promise<void> {
    const exited = once(this.#child, 'exit');
    this.#child.kill('SIGTERM');
    await exited;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
