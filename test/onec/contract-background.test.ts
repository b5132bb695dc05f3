import { expect } from 'chai';
import { gigaChatChunks } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GigaChatMock, heldGigaChatStream, sendJson, writeGigaChatStream } from '../helpers/gigachat-mock.ts';
import { method } from './lib/bsl.ts';
import { dumpLayout, fixture, fixtureBytes, readBsl } from './lib/dump.ts';

/*
 * The form's non-blocking path, replayed through the real gateway in front of a local GigaChat:
 * НачатьОтвет's body (onec/fixtures/responses-background.request.json), then the requests
 * СостояниеОтвета and ОтменитьОтвет make, read with the keys the BSL reads.
 */

const objectModule = readBsl(dumpLayout().objectModule);
const KEY = 'test-1c-key';
const HEADERS = {
  Accept: 'application/json',
  Authorization: `Bearer ${KEY}`,
  'Content-Type': 'application/json; charset=utf-8',
};

/** The literals a method passes to `Вставить(` and reads with `Получить(`, in order. */
const inserted = (name: string) =>
  [...method(objectModule, name).source.matchAll(/\.Вставить\("([^"]+)"/g)].map((match) => match[1] as string);
const read = (name: string) =>
  [...method(objectModule, name).source.matchAll(/\.Получить\("([^"]+)"\)/g)].map((match) => match[1] as string);

/** The path prefix ПутьОтвета builds and the suffix ОтменитьОтвет adds. */
const RESPONSE_PATH = /"(\/v1\/responses\/)"/.exec(method(objectModule, 'ПутьОтвета').source)?.[1] as string;
const CANCEL_SUFFIX = /ПутьОтвета\(Идентификатор\) \+ "([^"]+)"/.exec(
  method(objectModule, 'ОтменитьОтвет').source,
)?.[1];
const START_PATH = /ВыполнитьЗапрос\("POST", "([^"]+)"/.exec(method(objectModule, 'НачатьОтвет').source)?.[1];
const UNFINISHED = /Статус <> "(\w+)" И Статус <> "(\w+)"/.exec(method(objectModule, 'ОтветЗавершен').source);

/** An upstream stream that sends its first piece and waits for `release` (or for the gateway to hang up). */
const heldStream = (release: Promise<void>, onClose?: () => void) =>
  heldGigaChatStream(['Оплата по счёту №15', ' за канцтовары, НДС 20%.'], release, onClose);

describe('onec: the background-response contract (НачатьОтвет, СостояниеОтвета, ОтменитьОтвет)', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway({ ...mock.env(), GATEWAY_API_KEYS: `buh:${KEY}`, SHUTDOWN_TIMEOUT_MS: '200' });
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  /** One request as ВыполнитьЗапрос makes it; the answer read as a UTF-8 string and parsed. */
  async function call(httpMethod: 'GET' | 'POST', path: string, body?: Buffer) {
    const { 'Content-Type': contentType, ...withoutBody } = HEADERS;
    const response = await fetch(`${gateway.url}${path}`, {
      method: httpMethod,
      headers: body === undefined ? withoutBody : { ...withoutBody, 'Content-Type': contentType },
      body,
    });
    const text = new TextDecoder('utf-8', { fatal: true }).decode(await response.arrayBuffer());
    return { status: response.status, body: JSON.parse(text) };
  }
  const start = () => call('POST', START_PATH as string, fixtureBytes('responses-background.request.json'));
  const poll = (id: string) => call('GET', `${RESPONSE_PATH}${encodeURIComponent(id)}`);
  const cancel = (id: string) => call('POST', `${RESPONSE_PATH}${encodeURIComponent(id)}${CANCEL_SUFFIX}`);
  const [idKey] = read('ИдентификаторОтвета');
  const [statusKey] = read('СтатусОтвета');
  const [textKey] = read('ТекстОтвета');
  const finished = (answer: any) => ![UNFINISHED?.[1], UNFINISHED?.[2]].includes(answer[statusKey as string]);

  /** Polls the way the form's idle handler does (here every 20 ms instead of every second). */
  async function pollUntil(id: string, done: (answer: any) => boolean) {
    for (;;) {
      const answer = await poll(id);
      expect(answer.status).to.equal(200);
      if (done(answer.body)) return answer.body;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('the fixture has the keys ТелоФоновогоОтвета and НачатьОтвет write, in their order', () => {
    const body = fixture('responses-background.request.json');
    const forced = inserted('НачатьОтвет').filter((key) => key !== 'Ключ');
    expect(Object.keys(body)).to.deep.equal([...inserted('ТелоФоновогоОтвета'), ...forced]);
    expect(forced).to.deep.equal(['background', 'stream']);
    expect(body).to.include({ background: true, stream: false });
    for (const message of body.input) expect(Object.keys(message)).to.deep.equal(inserted('СообщениеЧата'));
    expect(fixtureBytes('responses-background.request.json').toString('utf8')).to.equal(JSON.stringify(body));
    expect([START_PATH, RESPONSE_PATH, CANCEL_SUFFIX]).to.deep.equal(['/v1/responses', '/v1/responses/', '/cancel']);
    expect([idKey, statusKey, textKey]).to.deep.equal(['id', 'status', 'output_text']);
  });

  it('starts at once (queued), shows the partial text while in_progress, then the whole answer', async () => {
    let release = () => {};
    mock.chat = heldStream(new Promise((resolve) => (release = resolve)));
    const started = await start();
    expect(started.status).to.equal(200);
    expect(started.body[statusKey as string]).to.equal('queued');
    const id = started.body[idKey as string];
    expect(id).to.match(/^resp_/);
    expect(finished(started.body)).to.equal(false);

    const partial = await pollUntil(id, (answer) => answer[textKey as string] !== '');
    expect(partial[statusKey as string]).to.equal('in_progress');
    expect(partial[textKey as string]).to.equal('Оплата по счёту №15');
    release();
    const done = await pollUntil(id, finished);
    expect(done[statusKey as string]).to.equal('completed');
    expect(done[textKey as string]).to.equal('Оплата по счёту №15 за канцтовары, НДС 20%.');

    // What reached GigaChat is the dialog the form sent, system prompt first.
    const upstream = JSON.parse(mock.requestsTo('/api/v1/chat/completions')[0]?.body as string);
    const sent = fixture('responses-background.request.json');
    expect(upstream.messages).to.deep.equal(sent.input);
    expect(upstream.temperature).to.equal(sent.temperature);
  });

  it('«Остановить» cancels on the gateway: the upstream call ends and the text so far is kept', async () => {
    let upstreamClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    mock.chat = heldStream(new Promise(() => {}), upstreamClosed);
    const id = (await start()).body[idKey as string];
    await pollUntil(id, (answer) => answer[textKey as string] !== '');
    const cancelled = await cancel(id);
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body[statusKey as string]).to.equal('cancelled');
    expect(cancelled.body[textKey as string]).to.equal('Оплата по счёту №15');
    expect(finished(cancelled.body)).to.equal(true);
    await closed;
    expect((await poll(id)).body[statusKey as string]).to.equal('cancelled');
    // Cancelling again (the form closing after «Остановить») answers the same, not an error.
    expect((await cancel(id)).status).to.equal(200);
  });

  it('a cancel that comes after the end is a 400, and the form then reads the finished response', async () => {
    mock.chat = (_body, response) => writeGigaChatStream(response, gigaChatChunks(['Готово.']));
    const id = (await start()).body[idKey as string];
    const done = await pollUntil(id, finished);
    expect(done[statusKey as string]).to.equal('completed');
    const late = await cancel(id);
    expect(late.status).to.equal(400);
    const [error, message] = read('ТекстОшибкиШлюза');
    expect(late.body[error as string][message as string])
      .to.be.a('string')
      .and.not.equal('');
    expect((await poll(id)).body[statusKey as string]).to.equal('completed');
  });

  it('a provider failure ends the response failed, with the error.message ОшибкаОтвета shows', async () => {
    mock.chat = (_body, response) => sendJson(response, 500, { status: 500, message: 'Internal Server Error' });
    const id = (await start()).body[idKey as string];
    const failed = await pollUntil(id, finished);
    expect(failed[statusKey as string]).to.equal('failed');
    const [error, message] = read('ОшибкаОтвета');
    expect([error, message]).to.deep.equal(['error', 'message']);
    expect(failed[error as string][message as string])
      .to.be.a('string')
      .and.not.equal('');
    expect(failed[textKey as string]).to.equal('');
  });

  it('a response cut at the token limit ends incomplete, with the reason ОшибкаОтвета reads', async () => {
    mock.chat = (_body, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const chunk of gigaChatChunks(['Оплата по'], 'length')) response.write(`data: ${JSON.stringify(chunk)}\n\n`);
      response.end('data: [DONE]\n\n');
    };
    const id = (await start()).body[idKey as string];
    const cut = await pollUntil(id, finished);
    expect(cut[statusKey as string]).to.equal('incomplete');
    const [, , details, reason] = read('ОшибкаОтвета');
    expect([details, reason]).to.deep.equal(['incomplete_details', 'reason']);
    expect(cut[details as string][reason as string]).to.equal('max_output_tokens');
    expect(cut[textKey as string]).to.equal('Оплата по');
  });

  it('answers a poll for an unknown id with 404 in the error shape ТекстОшибкиШлюза reads', async () => {
    const missing = await poll('resp_missing');
    expect(missing.status).to.equal(404);
    expect(missing.body.error.message).to.be.a('string').and.not.equal('');
  });
});
