import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { B24Harness } from '../helpers/b24/harness.ts';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { sendJson } from '../helpers/gigachat-mock.ts';
import type { UploadJob, UploadResult } from '../helpers/upload-client.ts';

const RETRIES = 2;
const UPLOAD_CLIENT = join(import.meta.dirname, '../helpers/upload-client.ts');
const run = promisify(execFile);
const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

describe('Bitrix24 app: bad input gets a 4xx, a big body a readable 413, and model calls one layer of retries', function () {
  this.timeout(60_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start({ UPSTREAM_RETRIES: String(RETRIES), UPSTREAM_RETRY_BASE_MS: '1' });
  });
  after(async () => {
    await harness?.close();
  });
  afterEach(() => {
    harness.gigachat.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Hello.'));
  });

  /** Bitrix24's engine body, as JSON text, with one field replaced by raw JSON. */
  function engineBody(portalOrigin: string, field: string, json: string): { text: string; hash: string } {
    const hash = randomBytes(16).toString('hex');
    const ajax = `${portalOrigin}/bitrix/services/main/ajax.php?action=ai.controller.integration.thirdparty`;
    const fields: Record<string, string> = {
      prompt: '"Привет"',
      category: '"text"',
      context: '[]',
      payload_markers: '{"language":"ru"}',
      callbackUrl: JSON.stringify(`${ajax}.callbackSuccess&hash=${hash}`),
      errorCallbackUrl: JSON.stringify(`${ajax}.callbackError&hash=${hash}`),
      [field]: json,
    };
    return { text: `{${Object.entries(fields).map(([name, value]) => `"${name}":${value}`)}}`, hash };
  }

  it('the engine endpoint answers deep or hostile JSON in any field with 4xx or 202, never a 5xx', async () => {
    const portal = await harness.installedPortal();
    const url = harness.engineUrl(portal);
    const statuses: string[] = [];
    for (const field of ['category', 'prompt', 'context', 'payload_markers', 'auth', 'max_tokens', 'ttl', 'extra']) {
      for (const value of [
        nested(10_000),
        '{"toString":1,"valueOf":1}',
        `[{"role":"user","content":${nested(5000)}}]`,
      ]) {
        const { text } = engineBody(portal.origin, field, value);
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: text,
        });
        statuses.push(`${field}: ${response.status}`);
        expect(response.status, `${field} = ${value.slice(0, 30)}`).to.be.oneOf([202, 400]);
        if (response.status === 400) expect(await response.json()).to.have.property('error', 'INVALID_REQUEST');
      }
    }
    // An accepted job with deep JSON in a field the app ignores is answered: nothing walks that JSON.
    const { text, hash } = engineBody(portal.origin, 'extra', nested(10_000));
    expect((await fetch(url, { method: 'POST', body: text })).status).to.equal(202);
    expect((await portal.waitForCallback(hash)).kind).to.equal('success');
    expect(harness.gateway.entries().filter((entry) => entry.msg === 'unexpected error')).to.deep.equal([]);
    expect(statuses).to.include('category: 400');
  });

  it('the app page’s /b24/app/api/try answers deep JSON with 400', async () => {
    const portal = await harness.installedPortal();
    const { session } = await harness.openAppPage(portal);
    for (const body of [
      `{"engine":${nested(10_000)},"prompt":"x"}`,
      `{"engine":"gigagate_GigaChat-2-Max","prompt":${nested(10_000)}}`,
      nested(10_000),
    ]) {
      const response = await fetch(`${harness.gateway.url}/b24/app/api/try`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        body,
      });
      expect(response.status).to.equal(400);
      expect(((await response.json()) as any).error.type).to.equal('invalid_request_error');
    }
  });

  it('/b24/assets/ answers names of Object.prototype members with 404, not 500', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
      const response = await fetch(`${harness.gateway.url}/b24/assets/${name}`);
      expect(response.status, name).to.equal(404);
    }
    expect((await fetch(`${harness.gateway.url}/b24/assets/app.js`)).status).to.equal(200);
  });

  for (const chunked of [false, true]) {
    it(`a 32 MiB body to the engine endpoint gets a 413 that curl and Node's http client read (${chunked ? 'chunked' : 'Content-Length'})`, async () => {
      const portal = await harness.installedPortal();
      const url = harness.engineUrl(portal);
      const job: UploadJob = { client: 'node-http', url, authorization: 'none', chunked, bytes: 32 * 1024 * 1024 };
      const { stdout } = await run(process.execPath, [UPLOAD_CLIENT, JSON.stringify(job)]);
      const answer = JSON.parse(stdout) as UploadResult;
      expect(answer.error).to.equal(undefined);
      expect(answer.status).to.equal(413);
      expect(JSON.parse(answer.body)).to.have.property('error', 'REQUEST_TOO_LARGE');

      if ((await run('curl', ['--version']).catch(() => undefined)) === undefined) {
        console.log('      curl is not installed: its case is skipped');
        return;
      }
      const curl = await run('sh', [
        '-c',
        `head -c ${32 * 1024 * 1024} /dev/zero | curl --silent --show-error --write-out '\\n%{http_code}' ` +
          `-H 'content-type: application/json' ${chunked ? "-H 'transfer-encoding: chunked'" : ''} --data-binary @- '${url}'`,
      ]);
      const lines = curl.stdout.split('\n');
      expect(lines.pop()).to.equal('413');
      expect(JSON.parse(lines.join('\n'))).to.have.property('error', 'REQUEST_TOO_LARGE');
    });
  }

  it('an upstream 503 costs UPSTREAM_RETRIES + 1 model calls for one engine job, then its error callback', async () => {
    const portal = await harness.installedPortal();
    harness.gigachat.chat = (_body, response) =>
      sendJson(response, 503, { status: 503, message: 'Service Unavailable' });
    const before = harness.gigachat.requestsTo('/api/v1/chat/completions').length;
    const answer = await portal.askEngine(harness.engineUrl(portal));
    expect(answer.status).to.equal(202);
    const callback = await portal.waitForCallback(answer.hash);
    expect(callback.kind).to.equal('error');
    expect(callback.body).to.include({ code: 502, api_request_completed: false });
    expect(harness.gigachat.requestsTo('/api/v1/chat/completions').length - before).to.equal(RETRIES + 1);
  });
});
