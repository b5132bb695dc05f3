import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import { gigaChatChunks, gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.ts';
import { GigaChatMock, heldGigaChatStream, sendJson, writeGigaChatStream } from '../helpers/gigachat-mock.ts';
import { RedisServer } from '../helpers/redis-server.ts';

type Response = OpenAI.Responses.Response;
const UNFINISHED = new Set(['queued', 'in_progress']);

/** Polls GET /v1/responses/{id} until `done` says so (every 20 ms; the test's own timeout bounds it). */
async function pollUntil(client: OpenAI, id: string, done: (response: Response) => boolean): Promise<Response> {
  for (;;) {
    const response = await client.responses.retrieve(id);
    if (done(response)) return response;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An upstream stream that sends its first piece and waits for `release` (or for the gateway to hang up). */
const heldStream = (release: Promise<void>, onClose?: () => void) =>
  heldGigaChatStream(['Начало', ' и конец'], release, onClose);

describe('e2e: background responses (background: true)', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;
  let client: OpenAI;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    // A response still running when the test ends is stopped after this grace period.
    gateway = await startTestGateway({ ...mock.env(), SHUTDOWN_TIMEOUT_MS: '200' });
    client = gateway.client;
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  it('shows the partial output while in_progress, then the whole', async () => {
    let release = () => {};
    mock.chat = heldStream(new Promise((resolve) => (release = resolve)));
    const queued = await client.responses.create({ model: 'GigaChat-2-Max', input: 'Думай', background: true });
    expect(queued).to.deep.include({ status: 'queued', background: true, output: [] });
    const partial = await pollUntil(client, queued.id, (response) => response.output_text !== '');
    expect(partial.status).to.equal('in_progress');
    expect(partial.output_text).to.equal('Начало');
    expect(partial.output[0]).to.deep.include({ type: 'message', status: 'in_progress' });
    release();
    const done = await pollUntil(client, queued.id, (response) => !UNFINISHED.has(response.status ?? ''));
    expect(done.status).to.equal('completed');
    expect(done.output_text).to.equal('Начало и конец');
    expect(done.usage?.total_tokens).to.be.a('number');
  });

  it('streams while it runs and resumes the stream after a sequence number', async () => {
    mock.chat = (_body, response) =>
      writeGigaChatStream(response, gigaChatChunks(['Раз', ', два', ', три']), { delayMs: 30 });
    const stream = await client.responses.create({
      model: 'GigaChat-2-Max',
      input: 'Считай',
      background: true,
      stream: true,
    });
    const seen: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) {
      seen.push(event);
      if (event.type === 'response.output_text.delta') break; // the connection drops here
    }
    const { response: created } = seen[0] as OpenAI.Responses.ResponseCreatedEvent;
    expect(created.status).to.equal('queued');
    const last = seen.at(-1)?.sequence_number as number;
    const resumed = await client.responses.retrieve(created.id, { stream: true, starting_after: last });
    const rest: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of resumed) rest.push(event);
    const all = [...seen, ...rest];
    expect(all.map((event) => event.sequence_number)).to.deep.equal(all.map((_event, index) => index));
    expect(all.map((event) => event.type)).to.deep.equal([
      'response.created',
      'response.queued',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const again = await client.responses.retrieve(created.id, { stream: true, starting_after: 9 });
    const tail: string[] = [];
    for await (const event of again) tail.push(event.type);
    expect(tail).to.deep.equal(['response.output_item.done', 'response.completed']);
  });

  it('cancels a running response: the upstream call is aborted and the status is cancelled', async () => {
    let upstreamClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    mock.chat = heldStream(new Promise(() => {}), upstreamClosed);
    const queued = await client.responses.create({ model: 'GigaChat-2-Max', input: 'Думай', background: true });
    await pollUntil(client, queued.id, (response) => response.output_text === 'Начало');
    const cancelled = await client.responses.cancel(queued.id);
    expect(cancelled.status).to.equal('cancelled');
    await closed; // the gateway hung up on GigaChat
    const settled = await pollUntil(client, queued.id, (response) => response.status === 'cancelled');
    expect(settled.output_text).to.equal('Начало');
    expect(settled.output[0]).to.deep.include({ type: 'message', status: 'incomplete' });
    // Cancelling again answers the same; a finished or foreground response cannot be cancelled.
    expect((await client.responses.cancel(queued.id)).status).to.equal('cancelled');
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('ok'));
    const plain = await client.responses.create({ model: 'GigaChat-2-Max', input: 'x' });
    const refused = await client.responses.cancel(plain.id).catch((error: unknown) => error);
    expect(refused).to.have.property('status', 400);
  });

  it('refuses to continue from a response still running', async () => {
    mock.chat = heldStream(new Promise(() => {}));
    const queued = await client.responses.create({ model: 'GigaChat-2-Max', input: 'Думай', background: true });
    const early = await client.responses
      .create({ model: 'GigaChat-2-Max', input: 'И?', previous_response_id: queued.id })
      .catch((error: unknown) => error);
    expect(early).to.have.property('status', 400);
    expect(early).to.have.nested.property('error.param', 'previous_response_id');
    expect(early).to.have.nested.property('error.code', 'previous_response_not_finished');
    await client.responses.cancel(queued.id);
  });

  it('refuses to stream again a response answered at once, and background without store', async () => {
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('ok'));
    const plain = await client.responses.create({ model: 'GigaChat-2-Max', input: 'x' });
    const again = await client.responses.retrieve(plain.id, { stream: true }).catch((error: unknown) => error);
    expect(again).to.have.property('status', 400);
    const unstored = await client.responses
      .create({ model: 'GigaChat-2-Max', input: 'x', background: true, store: false })
      .catch((error: unknown) => error);
    expect(unstored).to.have.property('status', 400);
    expect(unstored).to.have.nested.property('error.param', 'store');
  });
});

describe('e2e: background responses outlive their process', function () {
  this.timeout(60_000); // gateway processes start and stop, which takes seconds on a busy machine
  let mock: GigaChatMock;
  const processes: GatewayProcess[] = [];

  beforeEach(async () => {
    mock = await GigaChatMock.start();
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((process) => process.stop()));
    await mock.close();
  });

  async function start(env: Record<string, string>) {
    const gateway = await startGatewayProcess({ ...mock.env(), LOG_LEVEL: 'info', ...env });
    processes.push(gateway);
    return { gateway, client: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'none', maxRetries: 0 }) };
  }

  it('after a crash: the queued ones run, the one in progress ends failed saying why', async () => {
    const dir = tempDir();
    const env = { STORE_URL: `sqlite://${join(dir, 'store.sqlite')}`, FILES_DIR: join(dir, 'files') };
    mock.chat = heldStream(new Promise(() => {}));
    const first = await start(env);
    // Eight run at once in one instance; the ninth waits, queued.
    const accepted = await Promise.all(
      Array.from({ length: 9 }, (_value, index) =>
        first.client.responses.create({ model: 'GigaChat-2-Max', input: `вопрос ${index}`, background: true }),
      ),
    );
    // Killed once the eight running ones have saved their first words.
    for (;;) {
      const states = await Promise.all(accepted.map((response) => first.client.responses.retrieve(response.id)));
      if (states.filter((response) => response.output_text === 'Начало').length === 8) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    first.gateway.child.kill('SIGKILL');
    await first.gateway.exited;

    mock.chat = (_body, response) => writeGigaChatStream(response, gigaChatChunks(['После', ' перезапуска']));
    const second = await start(env);
    const ended = await Promise.all(
      accepted.map((response) =>
        pollUntil(second.client, response.id, (polled) => !UNFINISHED.has(polled.status ?? '')),
      ),
    );
    const failed = ended.filter((response) => response.status === 'failed');
    const completed = ended.filter((response) => response.status === 'completed');
    expect(failed).to.have.length(8);
    expect(completed).to.have.length(1);
    expect(failed[0]?.error?.message).to.match(/restarted/);
    expect(failed[0]?.output_text).to.equal('Начало');
    expect(completed[0]?.output_text).to.equal('После перезапуска');
  });

  it('on SIGTERM a running one gets the grace period, then ends failed; nothing stays in progress', async () => {
    const dir = tempDir();
    const env = {
      STORE_URL: `sqlite://${join(dir, 'store.sqlite')}`,
      FILES_DIR: join(dir, 'files'),
      SHUTDOWN_TIMEOUT_MS: '300',
    };
    mock.chat = heldStream(new Promise(() => {}));
    const first = await start(env);
    const queued = await first.client.responses.create({ model: 'GigaChat-2-Max', input: 'x', background: true });
    await pollUntil(first.client, queued.id, (response) => response.status === 'in_progress');
    expect(await first.gateway.stop()).to.equal(0);
    const second = await start(env);
    const ended = await second.client.responses.retrieve(queued.id);
    expect(ended.status).to.equal('failed');
    expect(ended.error?.message).to.match(/stopped/);
  });

  describe('with several instances on one Redis store', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await RedisServer.start();
    });
    after(async () => {
      await redis.stop();
    });

    it('one instance runs it; another serves its status and its stream', async () => {
      const env = { STORE_URL: redis.url, GATEWAY_SECRET_KEY: randomBytes(32).toString('base64') };
      mock.chat = (_body, response) =>
        writeGigaChatStream(response, gigaChatChunks(['Общий', ' ответ']), { delayMs: 50 });
      const [one, two] = await Promise.all([start(env), start(env)]);
      const stream = await one.client.responses.create({
        model: 'GigaChat-2-Max',
        input: 'x',
        background: true,
        stream: true,
      });
      let id = '';
      for await (const event of stream) {
        if (event.type === 'response.created') id = event.response.id;
        break;
      }
      const followed: string[] = [];
      for await (const event of await two.client.responses.retrieve(id, { stream: true, starting_after: 0 })) {
        followed.push(event.type);
      }
      expect(followed[0]).to.equal('response.queued');
      expect(followed.at(-1)).to.equal('response.completed');
      const done = await two.client.responses.retrieve(id);
      expect(done.output_text).to.equal('Общий ответ');
      expect(mock.requestsTo('/api/v1/chat/completions')).to.have.length(1);
    });
  });
});
