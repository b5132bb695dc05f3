import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { tempDir } from '../helpers/gateway.ts';

const MAIN = join(import.meta.dirname, '../../gateway/main.ts');

function run(env: Record<string, string>): { child: ChildProcess; stdout: string[]; stderr: string[] } {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (data: Buffer) => stdout.push(String(data)));
  child.stderr?.on('data', (data: Buffer) => stderr.push(String(data)));
  return { child, stdout, stderr };
}

async function waitFor(lines: string[], pattern: RegExp): Promise<RegExpMatchArray> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const match = lines.join('').match(pattern);
    if (match !== null) return match;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never saw ${pattern} in: ${lines.join('')}`);
}

describe('start-up (gateway/main.ts, what npm start runs)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops on a bad value with one line naming the variable, and exit code 1', async () => {
    const { child, stderr } = run({ GIGACHAT_SCOPE: 'EVERYTHING', STORE_URL: `sqlite://${dir}/s.sqlite` });
    const [code] = await once(child, 'exit');
    expect(code).to.equal(1);
    const output = stderr.join('');
    expect(output.trim().split('\n')).to.have.length(1);
    expect(output).to.contain('GIGACHAT_SCOPE');
  });

  it('starts without provider credentials, says which are disabled and why, and stops on SIGTERM', async () => {
    const { child, stdout } = run({ PORT: '0', STORE_URL: `sqlite://${dir}/nested/s.sqlite` });
    try {
      const [, url] = await waitFor(stdout, /listening on (http:\/\/[^"]+)/);
      const log = stdout.join('');
      expect(log).to.contain('GigaChat: disabled (GIGACHAT_CREDENTIALS is not set)');
      expect(log).to.contain('GATEWAY_API_KEYS is empty');
      const health = await fetch(`${url}/healthz`);
      expect(health.status).to.equal(200);
      const answer = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'GigaChat-2', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(answer.status).to.equal(503);
      expect(((await answer.json()) as any).error.code).to.equal('provider_not_configured');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
  });
});
