import { rmSync } from 'node:fs';
import { expect } from 'chai';
import { tempDir } from '../helpers/gateway.ts';
import { spawnGateway, waitFor } from '../helpers/gateway-process.ts';

describe('start-up (gateway/main.ts, what npm start runs)', function () {
  this.timeout(60_000); // each test starts a gateway process, which takes seconds on a busy machine
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops on a bad value with one line naming the variable, and exit code 1', async () => {
    const { stderr, exited } = spawnGateway({ GIGACHAT_SCOPE: 'EVERYTHING', STORE_URL: `sqlite://${dir}/s.sqlite` });
    const { code } = await exited;
    expect(code).to.equal(1);
    const output = stderr.join('');
    expect(output.trim().split('\n')).to.have.length(1);
    expect(output).to.contain('GIGACHAT_SCOPE');
  });

  it('starts without provider credentials, says which are disabled and why, and stops on SIGTERM', async () => {
    const { child, stdout, exited } = spawnGateway({ PORT: '0', STORE_URL: `sqlite://${dir}/nested/s.sqlite` });
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
    const { code } = await exited;
    expect(code).to.equal(0);
  });
});
