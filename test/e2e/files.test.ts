import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI, { toFile } from 'openai';
import { apiError } from '../helpers/api-error.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GeminiMock } from '../helpers/gemini-mock.ts';
import { GigaChatMock } from '../helpers/gigachat-mock.ts';

// Issue 19, point 5: OpenAI's Files API, files visible only to the key that uploaded them, and
// file_id parts on both providers. The real gateway and store, the openai SDK, local upstreams.

const ALICE = 'sk-alice-files-not-real';
const BOB = 'sk-bob-files-not-real';
const PDF = Buffer.from('%PDF-1.4\n% счёт № 17\n%%EOF\n');

describe('e2e: the Files API (/v1/files) and file_id content parts', () => {
  let gigachat: GigaChatMock;
  let gemini: GeminiMock;
  let gateway: TestGateway;
  let dir: string;
  const as = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
  const upload = async (client = as(ALICE), name = 'invoice.pdf', bytes = PDF) =>
    client.files.create({ file: await toFile(bytes, name), purpose: 'user_data' });
  const askAbout = (fileId: string, model: string, client = as(ALICE)) =>
    client.chat.completions.create({
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Сумма счёта?' },
            { type: 'file', file: { file_id: fileId } },
          ],
        },
      ],
    });
  const start = async () => {
    gateway = await startTestGateway(
      { ...gigachat.env(), ...gemini.env(), GATEWAY_API_KEYS: `alice:${ALICE},bob:${BOB}` },
      { dir, keepDir: true },
    );
  };
  const incoming = () => readdirSync(join(dir, 'files', 'incoming'));

  beforeEach(async () => {
    gigachat = await GigaChatMock.start();
    gemini = await GeminiMock.start();
    dir = tempDir();
    await start();
  });
  afterEach(async () => {
    await gateway.close();
    await gigachat.close();
    await gemini.close();
  });

  it('uploads, lists, retrieves, reads and deletes a file in OpenAI’s shapes', async () => {
    const file = await upload();
    expect(file).to.include({
      object: 'file',
      bytes: PDF.length,
      filename: 'invoice.pdf',
      purpose: 'user_data',
      status: 'processed',
    });
    expect(file.id).to.match(/^file-[\w-]+$/);
    expect((await as(ALICE).files.retrieve(file.id)).id).to.equal(file.id);
    const page = await as(ALICE).files.list();
    expect(page.data.map((entry) => entry.id)).to.deep.equal([file.id]);
    const content = await as(ALICE).files.content(file.id);
    expect(Buffer.from(await content.arrayBuffer()).equals(PDF)).to.equal(true);
    expect(content.headers.get('content-type')).to.equal('application/pdf');
    expect(content.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(content.headers.get('content-disposition')).to.match(/^attachment; filename="invoice\.pdf"/);
    expect(await as(ALICE).files.delete(file.id)).to.deep.equal({ id: file.id, object: 'file', deleted: true });
    expect((await apiError(as(ALICE).files.retrieve(file.id))).status).to.equal(404);
    expect(incoming()).to.deep.equal([]);
  });

  it("one key cannot see, read, delete or use another key's file", async () => {
    const file = await upload(as(ALICE));
    expect((await as(BOB).files.list()).data).to.deep.equal([]);
    for (const attempt of [
      as(BOB).files.retrieve(file.id),
      as(BOB).files.content(file.id),
      as(BOB).files.delete(file.id),
    ]) {
      const error = await apiError(attempt);
      expect([error.status, error.code]).to.deep.equal([404, 'file_not_found']);
    }
    const used = await apiError(
      as(BOB).chat.completions.create({
        model: 'GigaChat-2-Max',
        messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: file.id } }] }],
      }),
    );
    expect([used.status, used.param, used.code]).to.deep.equal([
      400,
      'messages[0].content[0].file.file_id',
      'file_not_found',
    ]);
    expect((await as(ALICE).files.retrieve(file.id)).id).to.equal(file.id);
  });

  it('sends a file_id to GigaChat as an upload to its storage, once', async () => {
    const file = await upload();
    await askAbout(file.id, 'GigaChat-2-Max');
    await askAbout(file.id, 'GigaChat-2-Max');
    const stored = [...gigachat.files.values()];
    expect(stored.map((entry) => [entry.filename, entry.type, entry.data.equals(PDF)])).to.deep.equal([
      ['invoice.pdf', 'application/pdf', true],
    ]);
    const bodies = gigachat.requestsTo('/api/v1/chat/completions').map((request) => JSON.parse(request.body));
    expect(bodies.map((body) => body.messages[0].attachments)).to.deep.equal([[stored[0]?.id], [stored[0]?.id]]);
  });

  it('sends a file_id to Gemini inline, read from the gateway’s disk', async () => {
    const file = await upload();
    await askAbout(file.id, 'gemini-2.5-flash');
    const [request] = gemini.requests.filter((entry) => entry.action === 'generateContent');
    const parts = (request?.body as { contents: Array<{ parts: unknown[] }> } | undefined)?.contents[0]?.parts;
    expect(parts?.[1]).to.deep.equal({ inlineData: { mimeType: 'application/pdf', data: PDF.toString('base64') } });
  });

  it('keeps files across a restart on the same store and folder', async () => {
    const file = await upload();
    await gateway.close();
    await start();
    expect((await as(ALICE).files.retrieve(file.id)).filename).to.equal('invoice.pdf');
  });

  it('expires a file after expires_after', async () => {
    const form = new FormData();
    form.set('purpose', 'user_data');
    form.set('expires_after[anchor]', 'created_at');
    form.set('expires_after[seconds]', '3600');
    form.set('file', new Blob([PDF], { type: 'application/pdf' }), 'a.pdf');
    const answer = await fetch(`${gateway.url}/v1/files`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${ALICE}` },
    });
    const file = (await answer.json()) as { expires_at: number; created_at: number };
    expect(file.expires_at - file.created_at).to.equal(3600);
  });

  it('refuses a file over 40 MiB with a 413 naming file, leaving nothing on disk', async () => {
    const big = new Blob([new Uint8Array(40 * 1024 * 1024 + 1)], { type: 'application/pdf' });
    const error = await apiError(as(ALICE).files.create({ file: await toFile(big, 'big.pdf'), purpose: 'user_data' }));
    expect([error.status, error.param, error.code]).to.deep.equal([413, 'file', 'file_too_large']);
    expect(incoming()).to.deep.equal([]);
    expect(readdirSync(join(dir, 'files')).filter((name) => name !== 'incoming')).to.deep.equal([]);
  });

  const post = (form: FormData | string, type?: string) =>
    fetch(`${gateway.url}/v1/files`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${ALICE}`, ...(type === undefined ? {} : { 'content-type': type }) },
    });
  const formWith = (entries: Array<[string, string | [Blob, string]]>) => {
    const form = new FormData();
    for (const [name, value] of entries) {
      if (typeof value === 'string') form.append(name, value);
      else form.append(name, value[0], value[1]);
    }
    return form;
  };
  const pdf = (): [Blob, string] => [new Blob([PDF]), 'a.pdf'];
  for (const [name, body, type, param] of [
    ['a JSON body', '{"file":"x","purpose":"user_data"}', 'application/json', 'file'],
    [
      'a truncated multipart body',
      '--x\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_da',
      'multipart/form-data; boundary=x',
      'file',
    ],
    ['no file', formWith([['purpose', 'user_data']]), undefined, 'file'],
    ['no purpose', formWith([['file', pdf()]]), undefined, 'purpose'],
    [
      'purpose fine-tune',
      formWith([
        ['purpose', 'fine-tune'],
        ['file', pdf()],
      ]),
      undefined,
      'purpose',
    ],
    [
      'two files',
      formWith([
        ['purpose', 'user_data'],
        ['file', pdf()],
        ['file', pdf()],
      ]),
      undefined,
      'file',
    ],
    [
      'an empty file',
      formWith([
        ['purpose', 'user_data'],
        ['file', [new Blob([]), 'empty.pdf']],
      ]),
      undefined,
      'file',
    ],
    [
      'purpose twice',
      formWith([
        ['purpose', 'user_data'],
        ['purpose', 'vision'],
        ['file', pdf()],
      ]),
      undefined,
      'purpose',
    ],
    [
      'expires_after of one second',
      formWith([
        ['purpose', 'user_data'],
        ['expires_after[anchor]', 'created_at'],
        ['expires_after[seconds]', '1'],
        ['file', pdf()],
      ]),
      undefined,
      'expires_after.seconds',
    ],
    [
      'a __proto__ field',
      formWith([
        ['__proto__', 'x'],
        ['purpose', 'user_data'],
        ['file', pdf()],
      ]),
      undefined,
      null,
    ],
  ] as const) {
    it(`refuses ${name} with a 4xx naming the field`, async () => {
      const answer = await post(body as FormData | string, type);
      const error = ((await answer.json()) as { error: { param: string | null } }).error;
      if (param === null) {
        // Extra fields are ignored, as OpenAI ignores them; nothing may crash on the name.
        expect(answer.status).to.equal(200);
        return;
      }
      expect(answer.status, JSON.stringify(error)).to.be.within(400, 499);
      expect(error.param).to.equal(param);
      expect(incoming()).to.deep.equal([]);
    });
  }

  it('keeps a hostile file name only as metadata: no folders, no control characters, at most 255 characters', async () => {
    const file = await upload(as(ALICE), `../../etc/passwd\u0000\u0007${'я'.repeat(400)}.txt`, Buffer.from('text'));
    expect(file.filename).not.to.match(/\p{Cc}/u);
    expect(file.filename.length).to.be.at.most(255);
    expect(readdirSync(join(dir, 'files')).sort()).to.deep.equal([file.id, 'incoming'].sort());
  });

  for (const id of ['../../etc/passwd', '..%2F..%2Fstore.sqlite', 'file-'.padEnd(5000, 'x'), 'file-%00']) {
    it(`answers 404 for the id ${JSON.stringify(id.slice(0, 30))}`, async () => {
      const answer = await fetch(`${gateway.url}/v1/files/${id}`, { headers: { authorization: `Bearer ${ALICE}` } });
      expect(answer.status).to.be.oneOf([400, 404]);
      expect(((await answer.json()) as { error: object }).error).to.have.property('message');
    });
  }

  for (const [query, param] of [
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['order=up', 'order'],
    ['after=file-nope', 'after'],
    ['limit=1&limit=2', 'limit'],
  ] as const) {
    it(`refuses the list query ${query} naming ${param}`, async () => {
      const answer = await fetch(`${gateway.url}/v1/files?${query}`, { headers: { authorization: `Bearer ${ALICE}` } });
      expect(answer.status).to.equal(400);
      expect(((await answer.json()) as { error: { param: string } }).error.param).to.equal(param);
    });
  }

  it('pages the list with limit and after, newest first', async () => {
    const first = await upload(as(ALICE), 'a.txt', Buffer.from('a'));
    const second = await upload(as(ALICE), 'b.txt', Buffer.from('b'));
    const page = await as(ALICE).files.list({ limit: 1 });
    expect(page.data).to.have.length(1);
    const ids = [];
    for await (const file of as(ALICE).files.list({ limit: 1 })) ids.push(file.id);
    expect(new Set(ids)).to.deep.equal(new Set([first.id, second.id]));
  });

  it('needs a key', async () => {
    const answer = await fetch(`${gateway.url}/v1/files`);
    expect(answer.status).to.equal(401);
  });
});
