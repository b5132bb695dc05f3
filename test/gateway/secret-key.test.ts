import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { KeyFile } from '../../gateway/lib/secrets/key-file.ts';
import { keyIdOf } from '../../gateway/lib/secrets/secret-box.ts';
import { tempDir } from '../helpers/gateway.ts';
import {
  collectOutput,
  type GatewayProcess,
  spawnGateway,
  startGatewayProcess,
  waitFor,
} from '../helpers/gateway-process.ts';
import { RedisServer } from '../helpers/redis-server.ts';

/**
 * Runs the gateway until it exits by itself, or stops it once it listens after all; resolves with
 * its exit code (null when it started) and what it wrote to stderr.
 */
async function failedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const gateway = spawnGateway({ PORT: '0', ...env });
  const exited = once(gateway.child, 'exit').then(([code]) => code as number | null);
  const listening = waitFor(gateway.stdout, /listening on/).then(
    () => null,
    () => exited,
  );
  const code = await Promise.race([exited, listening]);
  if (code === null) await gateway.stop();
  return { code, stderr: gateway.stderr.join('') };
}

const stdoutOf = (gateway: GatewayProcess) => gateway.stdout.join('');

describe('GATEWAY_SECRET_KEY: the key that seals secrets at rest (gateway/main.ts)', function () {
  this.timeout(30_000);
  let dir: string;
  const running: GatewayProcess[] = [];

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((gateway) => gateway.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('without it, a SQLite instance generates the key beside its store (owner-only, with a warning) and a restart reads it back', async () => {
    const store = join(dir, 'data', 'gateway.sqlite');
    const keyFile = `${store}.secret-key`;
    const first = await startGatewayProcess({ STORE_URL: `sqlite://${store}` });
    running.push(first);
    const text = readFileSync(keyFile, 'utf8');
    expect(text).to.match(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(statSync(keyFile).mode & 0o777).to.equal(0o600);
    const keyId = keyIdOf(Buffer.from(text.trim(), 'base64'));
    const warning = stdoutOf(first)
      .split('\n')
      .find((line) => line.includes('GATEWAY_SECRET_KEY is not set'));
    expect(JSON.parse(warning as string)).to.include({ level: 'warn' });
    expect(warning).to.contain(keyFile).and.contain(keyId).and.not.contain(text.trim());
    await first.stop();

    const second = await startGatewayProcess({ STORE_URL: `sqlite://${store}` });
    running.push(second);
    expect(readFileSync(keyFile, 'utf8')).to.equal(text);
    expect(stdoutOf(second)).to.contain(`secrets at rest: sealed with key ${keyId} from ${keyFile}`);
    expect(stdoutOf(second)).not.to.contain('GATEWAY_SECRET_KEY is not set');
  });

  it('two processes starting together on a new store agree on one key', async () => {
    const store = join(dir, 'gateway.sqlite');
    const pair = await Promise.all([1, 2].map(() => startGatewayProcess({ STORE_URL: `sqlite://${store}` })));
    running.push(...pair);
    const keyId = keyIdOf(Buffer.from(readFileSync(`${store}.secret-key`, 'utf8').trim(), 'base64'));
    for (const gateway of pair) expect(stdoutOf(gateway)).to.match(new RegExp(`\\(${keyId}\\)|key ${keyId} from`));
    expect(pair.filter((gateway) => stdoutOf(gateway).includes('GATEWAY_SECRET_KEY is not set'))).to.have.length(1);
  });

  it('the key file is made once when processes race for it: all of them read the one key', async () => {
    const path = join(dir, 'race', 'gateway.sqlite.secret-key');
    const module = join(import.meta.dirname, '../../gateway/lib/secrets/key-file.ts');
    const script = `import { readOrCreateKeyFile } from ${JSON.stringify(module)};
      process.stdout.write('ready\\n');
      process.stdin.once('data', () => process.stdout.write(JSON.stringify(readOrCreateKeyFile(${JSON.stringify(path)}))));`;
    // Eight processes wait at a barrier, so their checks and creations overlap.
    const racers = Array.from({ length: 8 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
      return { child, output: collectOutput(child.stdout) };
    });
    await Promise.all(racers.map(({ output }) => waitFor(output, /ready\n/)));
    for (const { child } of racers) child.stdin.write('go\n');
    const files = await Promise.all(
      racers.map(async ({ output }) => JSON.parse((await waitFor(output, /\{.*\}/))[0]) as KeyFile),
    );
    expect(new Set(files.map((file) => file.text)).size).to.equal(1);
    expect(files[0]?.text).to.equal(readFileSync(path, 'utf8').trim());
    expect(files.filter((file) => file.created)).to.have.length(1);
  });

  it('with a key, seals with the first of the list and names only key ids', async () => {
    const [current, older] = [randomBytes(32), randomBytes(32)];
    const gateway = await startGatewayProcess({
      STORE_URL: `sqlite://${join(dir, 'gateway.sqlite')}`,
      GATEWAY_SECRET_KEY: `${current.toString('base64')}, ${older.toString('hex')}`,
    });
    running.push(gateway);
    const log = stdoutOf(gateway);
    expect(log).to.contain(`secrets at rest: sealed with key ${keyIdOf(current)} (and ${keyIdOf(older)} to open older`);
    expect(log).not.to.contain(current.toString('base64')).and.not.to.contain(older.toString('hex'));
    expect(() => statSync(join(dir, 'gateway.sqlite.secret-key'))).to.throw(/ENOENT/);
  });

  it('a Redis store requires it: one line naming the variable, whether or not the Bitrix24 app is on', async () => {
    const redis = await RedisServer.start();
    try {
      const environments: Array<Record<string, string>> = [{}, { PUBLIC_URL: 'https://gigagate.example.ru' }];
      for (const env of environments) {
        const { code, stderr } = await failedStart({ STORE_URL: redis.url, ...env });
        expect(code).to.equal(1);
        expect(stderr.trim().split('\n')).to.have.length(1);
        expect(stderr).to.match(
          /^gateway: configuration error: GATEWAY_SECRET_KEY: is required with a Redis store, .*openssl rand -base64 32/,
        );
      }
    } finally {
      await redis.stop();
    }
  });

  it('a bad value stops start-up with one line naming the variable, never echoing it', async () => {
    const good = randomBytes(32).toString('base64');
    const cases: Array<[string, RegExp]> = [
      ['not-a-key-but-a-password', /GATEWAY_SECRET_KEY: the key is not 32 random bytes as base64/],
      [good.slice(0, 40), /GATEWAY_SECRET_KEY: the key is not 32 random bytes/],
      [`${good},tooshort`, /GATEWAY_SECRET_KEY: key 2 is not 32 random bytes/],
      [`${good},${good}`, /GATEWAY_SECRET_KEY: key 2 is listed twice/],
    ];
    for (const [value, problem] of cases) {
      const { code, stderr } = await failedStart({
        STORE_URL: `sqlite://${join(dir, 's.sqlite')}`,
        GATEWAY_SECRET_KEY: value,
      });
      expect(code, value).to.equal(1);
      expect(stderr.trim().split('\n'), value).to.have.length(1);
      expect(stderr).to.match(problem);
      for (const part of value.split(',')) expect(stderr).not.to.contain(part);
    }
  });

  it('a key file that holds no key stops start-up with one line, without its content', async () => {
    const store = join(dir, 'gateway.sqlite');
    writeFileSync(`${store}.secret-key`, 'someone-edited-this\n', { mode: 0o600 });
    const { code, stderr } = await failedStart({ STORE_URL: `sqlite://${store}` });
    expect(code).to.equal(1);
    expect(stderr.trim().split('\n')).to.have.length(1);
    expect(stderr).to.contain(
      `GATEWAY_SECRET_KEY: is not set, and the key file ${store}.secret-key does not hold a key`,
    );
    expect(stderr).not.to.contain('someone-edited-this');
  });
});
