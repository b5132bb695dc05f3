import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { webhookPortalId } from '../../../b24-app/webhook/webhook.ts';
import { B24Harness } from '../../helpers/b24/harness.ts';

const ROOT = join(import.meta.dirname, '../../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('Bitrix24 webhook mode: npm run b24 -- engines register|list|unregister --webhook <url>', function () {
  this.timeout(40_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    await harness?.close();
  });

  /** Runs `npm run b24 -- …` as a user would, with the server's store and PUBLIC_URL. */
  function b24(...args: string[]): Promise<Run> {
    const env = harness.gateway.env;
    const child = spawn('npm', ['run', '--silent', 'b24', '--', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        STORE_URL: env.STORE_URL as string,
        PUBLIC_URL: env.PUBLIC_URL as string,
        B24_ENGINE_MODELS: 'GigaChat-2-Pro',
        // The gateway's PORT, as the .env the server reads gives it: engine names come from its GET /v1/models.
        PORT: new URL(harness.gateway.url).port,
        NODE_EXTRA_CA_CERTS: harness.ca.caPemFile,
      },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => {
      stdout += String(data);
    });
    child.stderr.on('data', (data: Buffer) => {
      stderr += String(data);
    });
    // npm's warnings about the machine's npmrc, and Node's note on a missing .env, are not ours.
    const ours = (text: string) =>
      text.replace(/^npm warn .*\n/gm, '').replace(/^\.env not found\. Continuing without it\.\n?/m, '');
    return new Promise((resolve) =>
      child.on('close', (code) => resolve({ code, stdout: ours(stdout), stderr: ours(stderr) })),
    );
  }

  it('registers, lists and unregisters engines through an incoming webhook; the engines answer in between', async () => {
    const portal = await harness.newPortal();
    const webhook = portal.createWebhook(1);
    const secret = new URL(webhook).pathname.split('/')[3] as string;

    const registered = await b24('engines', 'register', '--webhook', webhook);
    expect(registered.code, registered.stderr).to.equal(0);
    expect(registered.stdout).to.contain('gigagate_GigaChat-2-Pro\tGigaChat-2-Pro (Sber GigaChat via gigagate)');
    expect(registered.stdout).to.contain('registered: 1, unchanged: 0, removed: 0');
    expect(portal.engines).to.have.length(1);
    const engine = portal.engines[0] as (typeof portal.engines)[0];
    expect(engine.app_code).to.equal(null);
    expect(engine.completions_url).to.match(
      new RegExp(`^${harness.gateway.url}/b24/engine/hook_[0-9a-f]{32}\\.[\\w-]{32}/gigagate_GigaChat-2-Pro$`),
    );
    expect(portal.calls().every((call) => call.via === 'webhook')).to.equal(true);

    // Bitrix24 sends a webhook engine no auth at all: the URL's key is the check.
    const answer = await portal.askEngine(engine.completions_url, { auth: null });
    expect(answer.status).to.equal(202);
    expect((await portal.waitForCallback(answer.hash)).body).to.deep.equal({ result: 'Hello.' });

    const again = await b24('engines', 'register', '--webhook', webhook);
    expect(again.stdout).to.contain('registered: 0, unchanged: 1, removed: 0');

    const listed = await b24('engines', 'list', '--webhook', webhook);
    expect(listed.code).to.equal(0);
    expect(listed.stdout).to.match(
      /^gigagate_GigaChat-2-Pro\tGigaChat-2-Pro \(Sber GigaChat via gigagate\)\ttext\twebhook\t.*\/b24\/engine\/hook_[0-9a-f]{32}\.\[secret\]\/gigagate_GigaChat-2-Pro$/m,
    );

    const removed = await b24('engines', 'unregister', '--webhook', webhook);
    expect(removed.code, removed.stderr).to.equal(0);
    expect(removed.stdout.trim()).to.equal('removed: gigagate_GigaChat-2-Pro');
    expect(portal.engines).to.deep.equal([]);
    expect((await fetch(engine.completions_url)).status).to.equal(404);
    expect((await harness.storedKeys()).filter((key) => key.includes('hook_'))).to.deep.equal([]);

    const everything = [registered, again, listed, removed].map((run) => run.stdout + run.stderr).join('\n');
    expect(everything).not.to.contain(secret);
    expect(everything).not.to.contain(/\.([\w-]{32})\//.exec(engine.completions_url)?.[1]);
  });

  it('checks the webhook with a call that needs ai_admin before storing anything', async () => {
    const portal = await harness.newPortal();
    portal.admins.delete(7);
    const employee = await b24('engines', 'register', '--webhook', portal.createWebhook(7));
    expect(employee.code).to.equal(1);
    expect(employee.stderr.trim()).to.equal('b24: Bitrix24 refused ai.engine.list: ACCESS_DENIED');
    const noScope = await b24('engines', 'register', '--webhook', portal.createWebhook(1, ['crm']));
    expect(noScope.code).to.equal(1);
    expect(noScope.stderr.trim()).to.equal('b24: Bitrix24 refused ai.engine.list: insufficient_scope');
    expect(portal.calls().map((call) => call.method)).to.deep.equal(['ai.engine.list', 'ai.engine.list']);
    expect(portal.engines).to.deep.equal([]);
    const id = webhookPortalId(portal.origin);
    expect((await harness.storedKeys()).filter((key) => key.includes(id))).to.deep.equal([]);
  });

  it('explains bad usage and a bad webhook in one line, without echoing the secret', async () => {
    const usage = await b24('engines', 'add');
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain('usage: npm run b24 -- engines register|list|unregister --webhook');
    const missing = await b24('engines', 'list');
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('--webhook is required');
    const plain = await b24('engines', 'list', '--webhook', 'http://127.0.0.1:1/rest/1/topsecretvalue/');
    expect(plain.code).to.equal(1);
    expect(plain.stderr.trim().split('\n')).to.have.length(1);
    expect(plain.stderr).to.contain('--webhook: Webhook requires HTTPS protocol').and.not.contain('topsecretvalue');
    const portal = await harness.newPortal();
    const revoked = await b24('engines', 'register', '--webhook', `${portal.origin}/rest/1/topsecretvalue/`);
    expect(revoked.code).to.equal(1);
    expect(revoked.stderr.trim()).to.equal('b24: Bitrix24 refused ai.engine.list: INVALID_CREDENTIALS');
  });
});
