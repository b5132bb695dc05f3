import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import nock from 'nock';
import OpenAI from 'openai';
import { apiError } from '../helpers/api-error.ts';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GigaChatMock, sendJson, TEST_CREDENTIALS, writeGigaChatStream } from '../helpers/gigachat-mock.ts';

// Issue 19: image, audio and file parts reach GigaChat as uploads to its file storage, referenced by
// `attachments`. The real gateway, the openai SDK and a local GigaChat with a file storage.

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const PNG_URL = `data:image/png;base64,${PNG.toString('base64')}`;
const PDF = Buffer.from('%PDF-1.4\n% an invoice\n%%EOF\n');
const WAV = Buffer.from('RIFF\u0024\u0000\u0000\u0000WAVEfmt ', 'latin1');
// An MPEG-1 Layer III frame header (sync word, 128 kbit/s, 44.1 kHz), then silence.
const MP3 = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(60)]);
const TENANT_GIGACHAT = Buffer.from('tenant-client-id:tenant-client-secret').toString('base64');
const TENANT_KEY = 'sk-tenant-attachments-not-real';
const PLAIN_KEY = 'sk-plain-attachments-not-real';

const image = (url = PNG_URL) => ({ type: 'image_url' as const, image_url: { url } });
const text = (value: string) => ({ type: 'text' as const, text: value });

describe('e2e: GigaChat attachments (image, audio and file parts → POST /files → attachments)', () => {
  let gigachat: GigaChatMock;
  let gateway: TestGateway;

  const uploads = () => gigachat.requestsTo('/api/v1/files').filter((request) => request.method === 'POST');
  const chats = () => gigachat.requestsTo('/api/v1/chat/completions').map((request) => JSON.parse(request.body));
  const ask = (content: OpenAI.ChatCompletionContentPart[], client = gateway.client) =>
    client.chat.completions.create({ model: 'GigaChat-2-Max', messages: [{ role: 'user', content }] });

  beforeEach(async () => {
    gigachat = await GigaChatMock.start();
    gateway = await startTestGateway(gigachat.env());
  });
  afterEach(async () => {
    await gateway.close();
    await gigachat.close();
    nock.cleanAll();
  });

  it('uploads a data: image once, with purpose general, and refers to it by id; its bytes never go into the chat body', async () => {
    const answer = await ask([text('Что на картинке?'), image()]);
    expect(answer.choices[0]?.message.content).to.equal('Hello.');
    const [upload] = uploads();
    const form = await new Response(upload?.raw, {
      headers: { 'content-type': String(upload?.headers['content-type']) },
    }).formData();
    expect(form.get('purpose')).to.equal('general');
    const file = form.get('file') as File;
    expect(file.type).to.equal('image/png');
    expect(file.name).to.equal('image.png');
    expect(Buffer.from(await file.arrayBuffer()).equals(PNG)).to.equal(true);
    expect(Number(upload?.headers['content-length'])).to.equal(upload?.raw.length);
    const [stored] = gigachat.files.values();
    const [body] = chats();
    expect(body.messages).to.deep.equal([{ role: 'user', content: 'Что на картинке?', attachments: [stored?.id] }]);
    expect(gigachat.requestsTo('/api/v1/chat/completions')[0]?.body).not.to.contain(PNG.toString('base64'));
  });

  it('does not upload the same bytes again when the next turn resends the history', async () => {
    await ask([text('Что на картинке?'), image()]);
    await gateway.client.chat.completions.create({
      model: 'GigaChat-2-Max',
      messages: [
        { role: 'user', content: [text('Что на картинке?'), image()] },
        { role: 'assistant', content: 'Точка.' },
        { role: 'user', content: 'А какого цвета?' },
      ],
    });
    expect(uploads()).to.have.length(1);
    const [first, second] = chats();
    expect(second.messages[0].attachments).to.deep.equal(first.messages[0].attachments);
  });

  it('streams an answer about an attachment', async () => {
    gigachat.chat = (_body, response) =>
      writeGigaChatStream(response, [
        {
          choices: [{ delta: { role: 'assistant', content: 'Точка' }, index: 0 }],
          created: 1,
          model: 'GigaChat-2-Max',
          object: 'chat.completion',
        },
        {
          choices: [{ delta: { content: '.' }, index: 0, finish_reason: 'stop' }],
          created: 1,
          model: 'GigaChat-2-Max',
          object: 'chat.completion',
        },
      ]);
    const stream = await gateway.client.chat.completions.create({
      model: 'GigaChat-2-Max',
      stream: true,
      messages: [{ role: 'user', content: [text('Опиши'), image()] }],
    });
    let said = '';
    for await (const chunk of stream) said += chunk.choices[0]?.delta.content ?? '';
    expect(said).to.equal('Точка.');
    expect(chats()[0].messages[0].attachments).to.have.length(1);
  });

  it('sends attachments together with tools', async () => {
    await gateway.client.chat.completions.create({
      model: 'GigaChat-2-Max',
      messages: [
        {
          role: 'user',
          content: [
            text('Занеси счёт в базу'),
            {
              type: 'file',
              file: { filename: 'invoice.pdf', file_data: `data:application/pdf;base64,${PDF.toString('base64')}` },
            },
          ],
        },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'save_invoice', parameters: { type: 'object', properties: { total: { type: 'number' } } } },
        },
      ],
    });
    const [body] = chats();
    expect(body.functions[0].name).to.equal('save_invoice');
    expect(body.messages[0].attachments).to.have.length(1);
    const [stored] = gigachat.files.values();
    expect(stored?.filename).to.equal('invoice.pdf');
    expect(stored?.type).to.equal('application/pdf');
  });

  it('uploads input_audio (wav) and https image URLs fetched through the guarded downloader', async () => {
    nock('https://images.example.com').get('/cat.png').reply(200, PNG, { 'content-type': 'image/png' });
    await gateway.client.chat.completions.create({
      model: 'GigaChat-2-Max',
      messages: [
        {
          role: 'user',
          content: [
            text('Послушай'),
            { type: 'input_audio', input_audio: { data: WAV.toString('base64'), format: 'wav' } },
          ],
        },
        { role: 'assistant', content: 'Слушаю.' },
        { role: 'user', content: [text('И посмотри'), image('https://images.example.com/cat.png')] },
        { role: 'assistant', content: 'Вижу.' },
        {
          role: 'user',
          content: [
            text('И это'),
            { type: 'input_audio', input_audio: { data: MP3.toString('base64'), format: 'mp3' } },
          ],
        },
      ],
    });
    const files = [...gigachat.files.values()].map((file) => `${file.type} ${file.filename}`).sort();
    expect(files).to.deep.equal(['audio/mp3 audio.mp3', 'audio/wav audio.wav', 'image/png image.png']);
    expect(chats()[0].messages.map((message: { attachments?: string[] }) => message.attachments?.length)).to.deep.equal(
      [1, undefined, 1, undefined, 1],
    );
  });

  for (const [name, content, param, code] of [
    [
      'two images in one message',
      [image(), image(`data:image/jpeg;base64,${PNG.toString('base64')}`)],
      'messages[0].content[1]',
      'too_many_images',
    ],
    [
      'a GIF',
      [image(`data:image/gif;base64,${PNG.toString('base64')}`)],
      'messages[0].content[0].image_url.url',
      'unsupported_file_type',
    ],
    [
      'a spreadsheet',
      [
        {
          type: 'file',
          file: { filename: 'a.xls', file_data: `data:application/vnd.ms-excel;base64,${PDF.toString('base64')}` },
        },
      ],
      'messages[0].content[0].file.file_data',
      'unsupported_file_type',
    ],
    [
      'audio in ogg through input_audio',
      [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'ogg' } }],
      'messages[0].content[0].input_audio',
      'invalid_audio',
    ],
    [
      'an http image URL',
      [image('http://images.example.com/cat.png')],
      'messages[0].content[0].image_url.url',
      'invalid_image_url',
    ],
    [
      'a file part with both file_id and file_data',
      [{ type: 'file', file: { file_id: 'file-x', file_data: PNG_URL } }],
      'messages[0].content[0].file',
      'invalid_file',
    ],
    [
      'an unknown file_id',
      [{ type: 'file', file: { file_id: 'file-unknown' } }],
      'messages[0].content[0].file.file_id',
      'file_not_found',
    ],
  ] as const) {
    it(`refuses ${name} with a 400 naming the part, before anything is uploaded`, async () => {
      const error = await apiError(ask(content as unknown as OpenAI.ChatCompletionContentPart[]));
      expect(error.status).to.equal(400);
      expect(error.param).to.equal(param);
      expect(error.code).to.equal(code);
      expect(uploads()).to.have.length(0);
      expect(chats()).to.have.length(0);
    });
  }

  it('refuses an eleventh image in one request before uploading any', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [];
    for (let index = 0; index < 11; index++) {
      const bytes = Buffer.concat([PNG, Buffer.from([index])]);
      messages.push({ role: 'user', content: [image(`data:image/png;base64,${bytes.toString('base64')}`)] });
      messages.push({ role: 'assistant', content: 'ok' });
    }
    messages.pop();
    const error = await apiError(gateway.client.chat.completions.create({ model: 'GigaChat-2-Max', messages }));
    expect([error.status, error.param, error.code]).to.deep.equal([400, 'messages[20].content[0]', 'too_many_images']);
    expect(uploads()).to.have.length(0);
  });

  it('refuses an image over 15 MiB before uploading it; a body over MAX_BODY_BYTES gets a 413 that names /v1/files', async () => {
    await gateway.close();
    gateway = await startTestGateway({ ...gigachat.env(), MAX_BODY_BYTES: String(64 * 1024 * 1024) });
    const large = Buffer.alloc(15 * 1024 * 1024 + 1, 1);
    const error = await apiError(ask([image(`data:image/png;base64,${large.toString('base64')}`)]));
    expect([error.status, error.param, error.code]).to.deep.equal([400, 'messages[0].content[0]', 'file_too_large']);
    expect(uploads()).to.have.length(0);

    await gateway.close();
    gateway = await startTestGateway(gigachat.env());
    const tooLarge = await apiError(ask([image(`data:image/png;base64,${large.toString('base64')}`)]));
    expect(tooLarge.status).to.equal(413);
    expect(tooLarge.message).to.contain('/v1/files');
  });

  it("maps GigaChat's refusal of an upload to a 400 naming the part", async () => {
    gigachat.upload = (_body, response) => sendJson(response, 413, { status: 413, message: 'Payload Too Large' });
    const error = await apiError(ask([text('Опиши'), image()]));
    expect([error.status, error.param, error.code]).to.deep.equal([400, 'messages[0].content[1]', 'file_too_large']);
  });

  it('says file_not_found when GigaChat no longer has an uploaded file, and uploads it again on the next request', async () => {
    await ask([image()]);
    gigachat.files.clear();
    const error = await apiError(ask([image()]));
    expect([error.status, error.code]).to.deep.equal([400, 'file_not_found']);
    await ask([image()]);
    expect(uploads()).to.have.length(2);
  });

  describe('per tenant', () => {
    beforeEach(async () => {
      await gateway.close();
      gigachat.accepted.add(TENANT_GIGACHAT);
      const dir = tempDir();
      const file = {
        keys: {
          plain: { key: PLAIN_KEY },
          tenant: { key: TENANT_KEY, gigachat: { credentialsEnv: 'TENANT_GIGACHAT' } },
        },
      };
      writeFileSync(join(dir, 'gateway.json'), JSON.stringify(file));
      gateway = await startTestGateway(
        { ...gigachat.env(), GATEWAY_CONFIG: join(dir, 'gateway.json'), TENANT_GIGACHAT },
        { dir },
      );
    });

    it("uploads under the credential that reads the file; one tenant's file id never reaches another's request", async () => {
      const client = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
      await ask([image()], client(TENANT_KEY));
      await ask([image()], client(PLAIN_KEY));
      const owners = [...gigachat.files.values()].map((file) => file.owner).sort();
      expect(owners).to.deep.equal([TEST_CREDENTIALS, TENANT_GIGACHAT].sort());
      const [tenantChat, plainChat] = gigachat.requestsTo('/api/v1/chat/completions');
      const idOf = (request: typeof tenantChat) => JSON.parse(request?.body ?? '{}').messages[0].attachments[0];
      expect(gigachat.files.get(idOf(tenantChat))?.owner).to.equal(TENANT_GIGACHAT);
      expect(gigachat.files.get(idOf(plainChat))?.owner).to.equal(TEST_CREDENTIALS);
    });
  });

  it('answers as before for text-only requests (no upload, no attachments field)', async () => {
    gigachat.chat = (body, response) => sendJson(response, 200, gigaChatCompletion(JSON.stringify(body.messages)));
    const answer = await ask([text('Привет')]);
    expect(JSON.parse(answer.choices[0]?.message.content ?? '')).to.deep.equal([{ role: 'user', content: 'Привет' }]);
    expect(uploads()).to.have.length(0);
  });
});
