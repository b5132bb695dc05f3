import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { LINGER_BYTES } from '../../gateway/http/unread-body.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GigaChatMock } from '../helpers/gigachat-mock.ts';
import type { UploadJob, UploadResult } from '../helpers/upload-client.ts';

const KEY = 'key-large-bodies-0123';
const UPLOAD_BYTES = 32 * 1024 * 1024;
const UPLOAD_CLIENT = join(import.meta.dirname, '../helpers/upload-client.ts');
const run = promisify(execFile);

/** Runs one upload in a process of its own (upload-client.ts says why). */
async function upload(job: UploadJob): Promise<UploadResult> {
  const { stdout } = await run(process.execPath, [UPLOAD_CLIENT, JSON.stringify(job)], { maxBuffer: 1024 * 1024 });
  return JSON.parse(stdout) as UploadResult;
}

/** A JSON body of `bytes` bytes: one long user message. */
function bigChatBody(bytes: number): string {
  const head = '{"model":"GigaChat","messages":[{"role":"user","content":"';
  const tail = '"}]}';
  return head + 'a'.repeat(bytes - head.length - tail.length) + tail;
}

function expectTooLarge(answer: { status: number; body: string; error?: string }): void {
  expect(answer.error, 'the client saw no answer').to.equal(undefined);
  expect(answer.status).to.equal(413);
  expect(JSON.parse(answer.body).error).to.include({ type: 'invalid_request_error', code: 'request_too_large' });
}

describe('e2e: a too-large body gets a 413 the client can read (curl, the openai SDK, Node http)', function () {
  this.timeout(60_000);
  let mock: GigaChatMock;
  let gateway: TestGateway;
  let uploadFile: string;

  before(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway({ ...mock.env(), GATEWAY_API_KEYS: `tests:${KEY}`, MAX_BODY_BYTES: '1048576' });
    uploadFile = join(gateway.dir, 'upload.json');
    writeFileSync(uploadFile, bigChatBody(UPLOAD_BYTES));
  });
  after(async () => {
    await gateway.close();
    await mock.close();
  });

  // Every client on the fast path; a route through Koa shares the same code, so one client there.
  const CHAT = '/v1/chat/completions';
  for (const chunked of [false, true]) {
    const framing = chunked ? 'chunked' : 'Content-Length';

    it(`curl, 32 MiB to ${CHAT}, ${framing}`, async function () {
      if ((await run('curl', ['--version']).catch(() => undefined)) === undefined) {
        console.log('      curl is not installed: this case is skipped');
        this.skip();
      }
      const { stdout } = await run('curl', [
        '--silent',
        '--show-error',
        '--write-out',
        '\n%{http_code}',
        '-H',
        `authorization: Bearer ${KEY}`,
        '-H',
        'content-type: application/json',
        ...(chunked ? ['-H', 'transfer-encoding: chunked'] : []),
        '--data-binary',
        `@${uploadFile}`,
        `${gateway.url}${CHAT}`,
      ]);
      const lines = stdout.split('\n');
      expectTooLarge({ status: Number(lines.pop()), body: lines.join('\n') });
    });

    it(`the openai SDK (default retries), 32 MiB to ${CHAT}, ${framing}`, async () => {
      const answer = await upload({
        client: 'openai-chat',
        url: `${gateway.url}/v1`,
        authorization: `Bearer ${KEY}`,
        chunked,
        bytes: UPLOAD_BYTES,
      });
      expectTooLarge(answer);
    });

    for (const path of [CHAT, '/v1/embeddings']) {
      it(`Node's http client, 32 MiB to ${path}, ${framing}`, async () => {
        const answer = await upload({
          client: 'node-http',
          url: `${gateway.url}${path}`,
          authorization: `Bearer ${KEY}`,
          chunked,
          bytes: UPLOAD_BYTES,
        });
        expectTooLarge(answer);
      });
    }
  }

  it('an answer given before the body is read (a wrong key) is readable too', async () => {
    const answer = await upload({
      client: 'node-http',
      url: `${gateway.url}/v1/chat/completions`,
      authorization: 'Bearer wrong-key',
      chunked: false,
      bytes: UPLOAD_BYTES,
    });
    expect(answer.error).to.equal(undefined);
    expect(answer.status).to.equal(401);
    expect(mock.requests).to.have.length(0);
  });

  it(`drops at most ${LINGER_BYTES} bytes after the 413, then closes a connection still sending`, async () => {
    const answer = await upload({
      client: 'endless',
      url: `${gateway.url}/v1/chat/completions`,
      authorization: `Bearer ${KEY}`,
      chunked: true,
      bytes: 0,
    });
    expect(answer.status).to.equal(413);
    expect(answer.sent).to.be.greaterThan(LINGER_BYTES);
    expect((await fetch(`${gateway.url}/healthz`)).status).to.equal(200);
  });
});
