import { once } from 'node:events';
import { rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import { loadConfig } from '../../gateway/config.ts';
import { gigaChatChunks, gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, tempDir } from '../helpers/gateway.ts';
import { type GatewayProcess, startGatewayProcess, waitFor } from '../helpers/gateway-process.ts';
import { GigaChatMock, sendJson } from '../helpers/gigachat-mock.ts';

// Issue 7, point 6: SIGTERM/SIGINT stop accepting, let requests and streams in flight finish
// within SHUTDOWN_TIMEOUT_MS, then end what is left; the process exits 0. Through a real child
// process (what `npm start` runs). No test looks at durations: only at order and outcomes.

const STREAM_BODY = JSON.stringify({ model: 'GigaChat-2', messages: [{ role: 'user', content: 'Hi' }], stream: true });

/** A GigaChat stream that sends its first chunk, then waits for `release()` before the rest. */
function heldStream(mock: GigaChatMock) {
  const held: ServerResponse[] = [];
  let sent: () => void = () => {};
  /** Resolves once the first chunk went out to the gateway. */
  const started = new Promise<void>((resolve) => {
    sent = resolve;
  });
  let closed: () => void = () => {};
  /** Resolves once the gateway's upstream request has gone (completed or aborted). */
  const upstreamClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const [first, second, finish] = gigaChatChunks(['Hello', ', world']);
  mock.chat = async (_body, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(`data: ${JSON.stringify(first)}\n\n`);
    held.push(response);
    sent();
    response.once('close', closed);
    await released;
    if (response.destroyed) return;
    response.write(`data: ${JSON.stringify(second)}\n\n`);
    response.write(`data: ${JSON.stringify(finish)}\n\ndata: [DONE]\n\n`);
    response.end();
  };
  return { held, started, upstreamClosed, release: () => release() };
}

/** Reads a response body as text, calling `onText` with everything so far after each piece. */
async function readAll(response: Response, onText: (text: string) => Promise<void> | void): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
    await onText(text);
  }
}

/** A GET on a new connection (no pooled socket): resolves with the status, or the connection error's code. */
function getOnNewConnection(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('graceful shutdown (issue 7, point 6)', function () {
  this.timeout(60_000); // each test starts a gateway process, which takes seconds on a busy machine
  let mock: GigaChatMock;
  let dir: string;
  let gateway: (GatewayProcess & { url: string }) | undefined;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    dir = tempDir();
  });
  afterEach(async () => {
    gateway?.child.kill('SIGKILL');
    gateway = undefined;
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string> = {}) {
    gateway = await startGatewayProcess({
      HOST: '127.0.0.1',
      STORE_URL: `sqlite://${join(dir, 'store.sqlite')}`,
      ...mock.env(),
      ...env,
    });
    return gateway;
  }

  it('a stream in flight at SIGTERM finishes with [DONE]; new connections are refused meanwhile; exit 0', async () => {
    const running = await start();
    const upstream = heldStream(mock);
    const response = await fetch(`${running.url}/v1/chat/completions`, { method: 'POST', body: STREAM_BODY });
    expect(response.status).to.equal(200);
    let signalled = false;
    const text = await readAll(response, async (sofar) => {
      if (signalled || !sofar.includes('Hello')) return;
      signalled = true;
      running.child.kill('SIGTERM');
      await waitFor(running.stdout, /shutting down: no new connections/);
      expect(await getOnNewConnection(`${running.url}/healthz`)).to.equal('ECONNREFUSED');
      upstream.release();
    });
    expect(text).to.contain('"content":", world"');
    expect(text.trimEnd().endsWith('data: [DONE]')).to.equal(true);
    expect(text).not.to.contain('"error"');
    expect(await running.exited).to.deep.equal({ code: 0, signal: null });
    expect(running.stdout.join('')).not.to.contain('time is up');
  });

  it('stdout goes out in batches, yet a lone line shows without more traffic, and no line is lost at exit', async () => {
    const running = await start();
    const ask = () =>
      fetch(`${running.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'GigaChat-2', messages: [{ role: 'user', content: 'Hi' }] }),
      }).then((response) => response.text());
    const accessLines = () =>
      running.stdout
        .join('')
        .split('\n')
        .filter((line) => line.includes('"status":200'));
    await ask();
    await waitFor(running.stdout, /"status":200/); // one line, then silence: the flush timer writes it
    await Promise.all(Array.from({ length: 40 }, ask));
    running.child.kill('SIGTERM');
    expect(await running.exited).to.deep.equal({ code: 0, signal: null });
    expect(accessLines()).to.have.length(41);
  });

  it('SIGINT drains the same way', async () => {
    const running = await start();
    const upstream = heldStream(mock);
    const response = await fetch(`${running.url}/v1/chat/completions`, { method: 'POST', body: STREAM_BODY });
    const text = await readAll(response, async (sofar) => {
      if (!sofar.includes('Hello') || upstream.held.length !== 1) return;
      upstream.held.length = 0;
      running.child.kill('SIGINT');
      await waitFor(running.stdout, /shutting down: no new connections/);
      upstream.release();
    });
    expect(text.trimEnd().endsWith('data: [DONE]')).to.equal(true);
    expect(await running.exited).to.deep.equal({ code: 0, signal: null });
  });

  it('a request that arrives during the drain on a busy connection: /readyz answers 503 shutting_down, then the connection closes', async () => {
    const running = await start();
    const upstream = heldStream(mock);
    const { port } = new URL(running.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (data: Buffer) => {
      received += String(data);
    });
    const closed = once(socket, 'close');
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(STREAM_BODY)}\r\n\r\n${STREAM_BODY}`,
    );
    await upstream.started;
    running.child.kill('SIGTERM');
    await waitFor(running.stdout, /shutting down: no new connections/);
    // Pipelined on the same connection: Node answers it once the stream is done.
    socket.write('GET /readyz HTTP/1.1\r\nHost: gateway\r\n\r\n');
    // The stream goes on only once the gateway has the request (its access line): the kernel keeps
    // no order between this connection and the upstream's, so it could come after the stream ended.
    await waitFor(running.stdout, /"path":"\/readyz","status":503/);
    upstream.release();
    await closed;
    const readiness = received.slice(received.indexOf('HTTP/1.1 503'));
    expect(received).to.contain('data: [DONE]');
    expect(readiness).to.match(/^HTTP\/1\.1 503/);
    expect(readiness.toLowerCase()).to.contain('connection: close');
    const body = JSON.parse(readiness.slice(readiness.indexOf('\r\n\r\n') + 4));
    expect(body).to.deep.include({ status: 'shutting_down' });
    expect(body.error).to.deep.equal({
      message: 'Not ready: the gateway is shutting down.',
      type: 'api_error',
      param: null,
      code: 'shutting_down',
    });
    expect(await running.exited).to.deep.equal({ code: 0, signal: null });
  });

  it('an upstream that never finishes: past SHUTDOWN_TIMEOUT_MS the stream ends with a shutting_down error event, and the process exits 0', async () => {
    const running = await start({ SHUTDOWN_TIMEOUT_MS: '200' });
    const upstream = heldStream(mock); // never released
    const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: 'none', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'GigaChat-2',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    const pieces: string[] = [];
    let failure: unknown;
    try {
      for await (const chunk of stream) {
        pieces.push(chunk.choices[0]?.delta.content ?? '');
        if (pieces.join('') === 'Hello' && !running.child.killed) running.child.kill('SIGTERM');
      }
    } catch (error) {
      failure = error;
    }
    expect(pieces.join('')).to.equal('Hello');
    expect(failure).to.be.instanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).to.equal('shutting_down');
    expect((failure as Error).message).to.contain('shutting down');
    expect(await running.exited).to.deep.equal({ code: 0, signal: null });
    await upstream.upstreamClosed; // the gateway's upstream request was aborted, not left hanging
    const log = running.stdout.join('');
    expect(log).to.match(/"streams":1.*time is up/);
  });

  it('a second signal exits at once, without waiting for the drain', async () => {
    const running = await start({ SHUTDOWN_TIMEOUT_MS: '600000' });
    heldStream(mock); // never released: only the second signal can end the process
    const response = await fetch(`${running.url}/v1/chat/completions`, { method: 'POST', body: STREAM_BODY });
    let signalled = false;
    await readAll(response, async (sofar) => {
      if (signalled || !sofar.includes('Hello')) return;
      signalled = true;
      running.child.kill('SIGTERM');
      await waitFor(running.stdout, /shutting down: no new connections/);
      running.child.kill('SIGTERM');
    }).catch(() => {}); // the connection dies with the process
    expect(await running.exited).to.deep.equal({ code: 143, signal: null });
    expect(running.stderr.join('')).to.contain('SIGTERM again: exiting without waiting');
  });
});

describe('RunningGateway.close() is the same drain (in-process)', () => {
  let mock: GigaChatMock;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
  });
  afterEach(() => mock.close());

  it('waits for a stream in flight, which ends with [DONE]', async () => {
    const gateway = await startTestGateway(mock.env());
    const upstream = heldStream(mock);
    const stream = await gateway.client.chat.completions.create({
      model: 'GigaChat-2',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    const pieces: string[] = [];
    let closing: Promise<void> | undefined;
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      if (closing === undefined) {
        closing = gateway.close();
        upstream.release();
      }
    }
    await closing;
    expect(pieces.join('')).to.equal('Hello, world');
    expect(gateway.logs.join('')).not.to.contain('time is up');
  });

  it('closes idle keep-alive connections at once, and busy ones when their answer ends', async () => {
    const gateway = await startTestGateway(mock.env());
    gateway.server.keepAliveTimeout = 0; // else Node would close idle connections itself, seconds later
    const upstream = heldStream(mock);
    // Node's own client keeps idle sockets open for as long as the server does (fetch's gives up after 4 s).
    const agent = new http.Agent({ keepAlive: true });
    const sockets = new Set<Socket>();
    const request = (method: string, path: string, body?: string) =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const outgoing = http.request(`${gateway.url}${path}`, { method, agent }, resolve).on('error', reject);
        outgoing.on('socket', (socket) => sockets.add(socket));
        outgoing.end(body);
      });
    const stream = await request('POST', '/v1/chat/completions', STREAM_BODY);
    (await request('GET', '/healthz')).resume(); // a second connection, idle from now on
    let text = '';
    let closing: Promise<void> | undefined;
    for await (const piece of stream) {
      text += String(piece);
      if (closing === undefined && text.includes('Hello')) {
        closing = gateway.close();
        upstream.release();
      }
    }
    expect(text.trimEnd().endsWith('data: [DONE]')).to.equal(true);
    await closing; // resolves only once both connections are closed
    expect(sockets.size).to.equal(2);
    for (const socket of sockets) expect(socket.destroyed).to.equal(true);
    agent.destroy();
  });

  it('an answer that has ended but is still being written to a client slow to read goes out whole first', async function () {
    this.timeout(30_000); // 8 MB through the mock and the gateway: seconds on a busy machine
    const gateway = await startTestGateway(mock.env());
    // More than loopback's socket buffers take from a client that does not read (2 to 4 MB here): the rest waits in Node.
    const content = 'a'.repeat(8 * 1024 * 1024);
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion(content));
    // 'prefinish' comes when the gateway ends the answer, before it is written out ('finish').
    const ended = new Promise<void>((resolve) => {
      gateway.server.once('request', (_request, response: ServerResponse) => response.once('prefinish', resolve));
    });
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      const body = JSON.stringify({ model: 'GigaChat-2', messages: [{ role: 'user', content: 'Hi' }] });
      http
        .request(`${gateway.url}/v1/chat/completions`, { method: 'POST', agent: false }, resolve)
        .on('error', reject)
        .end(body);
    });
    await ended; // the client has read nothing of the body yet: its socket stops reading once Node's buffer is full
    const closing = gateway.close();
    const response = await answer;
    let text = '';
    for await (const piece of response) text += String(piece);
    await closing;
    expect(response.statusCode).to.equal(200);
    expect(JSON.parse(text).choices[0].message.content).to.equal(content);
  });

  it('with SHUTDOWN_TIMEOUT_MS=0, cuts the stream with the error event and aborts the upstream call', async () => {
    const gateway = await startTestGateway({ ...mock.env(), SHUTDOWN_TIMEOUT_MS: '0' });
    const upstream = heldStream(mock);
    const stream = await gateway.client.chat.completions.create({
      model: 'GigaChat-2',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let closing: Promise<void> | undefined;
    let failure: unknown;
    try {
      for await (const _chunk of stream) closing ??= gateway.close();
    } catch (error) {
      failure = error;
    }
    await closing;
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).to.equal('shutting_down');
    await upstream.upstreamClosed; // aborted, not left hanging (else this waits until the test times out)
    expect(upstream.held[0]?.writableFinished).to.equal(false);
    const access = gateway.logs.map((line) => JSON.parse(line)).find((line) => 'status' in line && 'path' in line);
    expect(access).to.include({ status: 200, path: '/v1/chat/completions' }); // not a client that left (499)
  });
});

describe('SHUTDOWN_TIMEOUT_MS (gateway/config.ts)', () => {
  it('defaults to 25 s, below the 30 s Kubernetes waits before SIGKILL, and names itself when bad', () => {
    expect(loadConfig({}).shutdownTimeoutMs).to.equal(25_000);
    expect(loadConfig({ SHUTDOWN_TIMEOUT_MS: '0' }).shutdownTimeoutMs).to.equal(0);
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_MS: 'soon' })).to.throw(/^SHUTDOWN_TIMEOUT_MS: /);
  });
});
