import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { HttpResponse } from '../../../gateway/lib/http-request.ts';
import { HttpTimeoutError } from '../../../gateway/lib/http-request.ts';
import { ResponseTooLargeError } from '../../../gateway/lib/response-body.ts';
import { type GatewayError, UpstreamError, UpstreamTimeoutError } from '../../../gateway/openai/errors.ts';
import { GIGACHAT_TLS_HINT, gigaChatEventError } from '../../../gateway/providers/gigachat/client.ts';
import { mapGigaChatError } from '../../../gateway/providers/gigachat/map-error.ts';
import type { GigaChatChunk } from '../../../gateway/providers/gigachat/wire-types.ts';
import type { ProviderCall } from '../../../gateway/providers/provider.ts';
import {
  bodyWords,
  createAgent,
  mapTransportFailure,
  readEvents,
  requestEvents,
  requestJson,
  requestTarget,
  type Upstream,
} from '../../../gateway/providers/upstream.ts';
import { recordedExchange, recordedStreamChunks } from '../../helpers/cassettes.ts';

/** The recorded SSE body of chat-stream, byte-exact. */
const recordedBody = recordedExchange('chat-stream').response as string;

/** A body as network reads, cut at the given byte offsets. */
async function* reads(body: string | Buffer, cuts: number[] = []): AsyncGenerator<Uint8Array> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    yield new Uint8Array(bytes.subarray(start, cut));
    start = cut;
  }
}

/** One read per byte. */
function byteByByte(body: string): AsyncGenerator<Uint8Array> {
  const length = Buffer.byteLength(body, 'utf8');
  return reads(
    body,
    Array.from({ length: length - 1 }, (_, index) => index + 1),
  );
}

const gigachat: Upstream = {
  name: 'GigaChat',
  dispatcher: undefined as never,
  timeoutMs: 1000,
  mapError: mapGigaChatError,
  tlsHint: GIGACHAT_TLS_HINT,
};

/** A 2xx event-stream answer whose body is `body`, as the seam gets it from lib/http-request.ts. */
function eventStream(body: AsyncIterable<Uint8Array>): HttpResponse {
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/event-stream' },
    body: Object.assign(body, { destroy() {}, bytes: async () => Buffer.alloc(0) }) as never,
  };
}

function events(body: AsyncIterable<Uint8Array>): AsyncGenerator<GigaChatChunk> {
  return readEvents<GigaChatChunk>(gigachat, eventStream(body), undefined, gigaChatEventError);
}

async function parse(body: AsyncIterable<Uint8Array>): Promise<GigaChatChunk[]> {
  const chunks: GigaChatChunk[] = [];
  for await (const chunk of events(body)) chunks.push(chunk);
  return chunks;
}

function errnoError(code: string, message = code): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

async function parseError(body: string): Promise<UpstreamError> {
  try {
    await parse(reads(body));
  } catch (error) {
    expect(error).to.be.instanceOf(UpstreamError);
    return error as UpstreamError;
  }
  throw new Error('expected an UpstreamError');
}

/** A chunk in the recorded shape with other content. */
function chunk(content: string): GigaChatChunk {
  const [first] = recordedStreamChunks('chat-stream');
  const copy = structuredClone(first);
  copy.choices[0].delta.content = content;
  return copy;
}

const sse = (events: unknown[], separator = '\n\n') =>
  events.map((event) => `data: ${typeof event === 'string' ? event : JSON.stringify(event)}${separator}`).join('');

describe('readEvents (on the recorded GigaChat stream)', () => {
  it('parses the recorded body into its chunks', async () => {
    const chunks = await parse(reads(recordedBody));
    expect(chunks).to.deep.equal(recordedStreamChunks('chat-stream'));
    expect(chunks).to.have.length(2);
    expect(chunks[0]?.choices[0]?.delta.content).to.equal('$1\\, 2\\, 3$');
    expect(chunks[1]?.usage?.total_tokens).to.equal(27);
  });

  it('parses the recorded body fed one byte at a time', async () => {
    expect(await parse(byteByByte(recordedBody))).to.deep.equal(recordedStreamChunks('chat-stream'));
  });

  it('reassembles Cyrillic text fed one byte at a time', async () => {
    const expected = [chunk('Привет, мир!'), chunk(' Ёжик в тумане.')];
    expect(await parse(byteByByte(sse([...expected, '[DONE]'])))).to.deep.equal(expected);
  });

  it('reassembles a Cyrillic character split between two reads', async () => {
    const expected = [chunk('Щука')];
    const body = sse([...expected, '[DONE]']);
    const bytes = Buffer.from(body, 'utf8');
    const cut = bytes.indexOf(Buffer.from('Щ', 'utf8')) + 1; // between the two bytes of Щ
    expect(bytes.subarray(cut - 1, cut + 1)).to.deep.equal(Buffer.from('Щ', 'utf8'));
    expect(await parse(reads(bytes, [cut]))).to.deep.equal(expected);
  });

  it('accepts \\r\\n\\r\\n between events', async () => {
    const expected = [chunk('один'), chunk('два')];
    expect(await parse(reads(sse([...expected, '[DONE]'], '\r\n\r\n')))).to.deep.equal(expected);
  });

  it('ignores events after [DONE], even ones that are not JSON', async () => {
    const body = sse([chunk('до'), '[DONE]', chunk('после'), 'not json']);
    const chunks = await parse(reads(body));
    expect(chunks.map((entry) => entry.choices[0]?.delta.content)).to.deep.equal(['до']);
  });

  it('reads the body to its end after [DONE]', async () => {
    let finished = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      yield* reads(sse([chunk('a'), '[DONE]']));
      yield Buffer.from(sse([chunk('late')]));
      finished = true;
    }
    expect(await parse(body())).to.have.length(1);
    expect(finished).to.equal(true);
  });

  it('ignores comment lines and event names', async () => {
    const body = `: keep-alive\n\nevent: message\n${sse([chunk('x'), '[DONE]'])}`;
    expect((await parse(reads(body))).map((entry) => entry.choices[0]?.delta.content)).to.deep.equal(['x']);
  });

  it('a data line that is not JSON → UpstreamError', async () => {
    const error = await parseError(sse([chunk('a'), '{"choices": [', '[DONE]']));
    expect(error.status).to.equal(502);
    expect(error.message).to.equal("GigaChat's answer could not be read (not valid JSON).");
  });

  it('an error object mid-stream → UpstreamError carrying its message', async () => {
    const error = await parseError(
      sse([chunk('a'), { status: 500, message: 'Internal Server Error: model overloaded' }, '[DONE]']),
    );
    expect(error.status).to.equal(502);
    expect(error.message).to.contain('Internal Server Error: model overloaded');
  });

  it('an event without choices and without a message → UpstreamError', async () => {
    const error = await parseError(sse([{ object: 'chat.completion' }]));
    expect(error.message).to.contain('without choices');
  });

  it('yields the chunks before a failure', async () => {
    const seen: GigaChatChunk[] = [];
    let caught: unknown;
    try {
      for await (const entry of events(reads(sse([chunk('a'), chunk('b'), 'oops'])))) seen.push(entry);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(UpstreamError);
    expect(seen.map((entry) => entry.choices[0]?.delta.content)).to.deep.equal(['a', 'b']);
  });
});

describe('bodyWords', () => {
  it("takes the message of a {status, message} body and of OAuth's {code, message}", () => {
    expect(bodyWords(Buffer.from(`${JSON.stringify(recordedExchange('model-not-found').response)}\n`))).to.equal(
      'No such model',
    );
    expect(bodyWords(Buffer.from('{"code":7,"message":"scope from db not fully includes consumed scope"}'))).to.equal(
      'scope from db not fully includes consumed scope',
    );
  });

  it('says so for an empty body', () => {
    expect(bodyWords(Buffer.alloc(0))).to.equal('no details');
    expect(bodyWords(Buffer.from('  \n'))).to.equal('no details');
  });

  it('caps a long JSON message at 500 characters', () => {
    expect(bodyWords(Buffer.from(JSON.stringify({ status: 400, message: 'x'.repeat(1000) })))).to.have.length(500);
  });

  it('falls back to the raw text for JSON without a message', () => {
    expect(bodyWords(Buffer.from('{"status":500}'))).to.equal('{"status":500}');
  });

  it("takes Gemini's google.rpc.Status message too", () => {
    expect(bodyWords(Buffer.from('{"error":{"code":503,"message":"overloaded"}}'))).to.equal('overloaded');
  });
});

describe('mapTransportFailure', () => {
  it('a timeout → 504 upstream_timeout', () => {
    const error = mapTransportFailure(new HttpTimeoutError(30_000), gigachat, 'request') as GatewayError;
    expect(error).to.be.instanceOf(UpstreamTimeoutError);
    expect(error).to.include({ status: 504, type: 'api_error', code: 'upstream_timeout' });
    expect(error.message).to.equal('GigaChat did not answer in time (no answer within 30000 ms).');
  });

  for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']) {
    it(`a TLS failure (${code}) → 502 upstream_tls_error pointing at GIGACHAT_CA_FILE`, () => {
      const error = mapTransportFailure(
        errnoError(code, 'self-signed certificate in certificate chain'),
        { ...gigachat, name: 'GigaChat OAuth' },
        'request',
      ) as GatewayError;
      expect(error).to.be.instanceOf(UpstreamError);
      expect(error).to.include({ status: 502, code: 'upstream_tls_error' });
      expect(error.headers).to.deep.equal({ 'x-should-retry': 'false' });
      expect(error.message).to.contain(code).and.contain('GIGACHAT_CA_FILE').and.contain('GigaChat OAuth');
    });
  }

  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET']) {
    it(`${code} → 502 upstream_unreachable`, () => {
      const error = mapTransportFailure(errnoError(code), gigachat, 'request') as GatewayError;
      expect(error).to.be.instanceOf(UpstreamError);
      expect(error).to.include({ status: 502, code: 'upstream_unreachable' });
      expect(error.message).to.equal(`GigaChat is unreachable (${code}).`);
    });
  }

  for (const code of ['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE']) {
    it(`${code} once the answer began → 502 upstream_error: a broken answer, not an unreachable host`, () => {
      const error = mapTransportFailure(errnoError(code), gigachat, 'answer') as GatewayError;
      expect(error).to.include({ status: 502, code: 'upstream_error' });
      expect(error.message).to.equal(`The connection to GigaChat broke before the answer was complete (${code}).`);
    });
  }

  it('a timeout once the answer began is still 504 upstream_timeout', () => {
    const error = mapTransportFailure(new HttpTimeoutError(300), gigachat, 'answer') as GatewayError;
    expect(error).to.include({ status: 504, code: 'upstream_timeout' });
  });

  it('an answer over the size the gateway reads → 502 upstream_error saying so', () => {
    const error = mapTransportFailure(new ResponseTooLargeError(1024), gigachat, 'answer') as GatewayError;
    expect(error).to.include({ status: 502, code: 'upstream_error' });
    expect(error.message).to.equal('GigaChat: the answer is larger than 1024 bytes, the most the gateway reads.');
  });

  it("undici's body timeout (the answer paused too long) → 504 upstream_timeout naming UPSTREAM_TIMEOUT_MS", () => {
    const error = mapTransportFailure(errnoError('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error'), gigachat, 'answer');
    expect(error).to.include({ status: 504, code: 'upstream_timeout' });
    expect((error as GatewayError).message).to.contain('UPSTREAM_TIMEOUT_MS');
  });

  it("undici's 'other side closed' names the errno under it, or says the connection closed", () => {
    const closed = errnoError('UND_ERR_SOCKET', 'other side closed');
    expect((mapTransportFailure(closed, gigachat, 'request') as GatewayError).message).to.equal(
      'GigaChat is unreachable (connection closed).',
    );
    const reset = Object.assign(errnoError('UND_ERR_SOCKET', 'other side closed'), { cause: errnoError('ECONNRESET') });
    expect((mapTransportFailure(reset, gigachat, 'answer') as GatewayError).message).to.equal(
      'The connection to GigaChat broke before the answer was complete (ECONNRESET).',
    );
  });

  it('an AbortError (the client went away) is rethrown unchanged', () => {
    const abort = new DOMException('This operation was aborted', 'AbortError');
    expect(mapTransportFailure(abort, gigachat, 'request')).to.equal(abort);
    const nodeAbort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
    expect(mapTransportFailure(nodeAbort, gigachat, 'request')).to.equal(nodeAbort);
  });

  it('a GatewayError passes through unchanged', () => {
    const upstream = new UpstreamError('already mapped');
    expect(mapTransportFailure(upstream, gigachat, 'request')).to.equal(upstream);
  });

  it('an error without a code is returned as it is', () => {
    const bug = new TypeError('x is undefined');
    expect(mapTransportFailure(bug, gigachat, 'request')).to.equal(bug);
  });
});

describe('requestJson and requestEvents against a local upstream', () => {
  let server: http.Server;
  let answer: (request: http.IncomingMessage, response: http.ServerResponse) => void = () => {};
  let root: URL;
  const agent = createAgent();
  const seen: Array<{ status: number; body: string }> = [];
  const local = (requestId: Upstream['requestId']): Upstream => ({
    name: 'Local',
    dispatcher: agent,
    timeoutMs: 2000,
    requestId,
    mapError: (status, body) => {
      seen.push({ status, body: body.toString('utf8') });
      return new UpstreamError(`mapped ${status}`);
    },
  });
  const get = { method: 'GET' as const, headers: {} };
  const call = () => ({ signal: new AbortController().signal }) as ProviderCall;
  const noErrors = () => undefined;

  before(async () => {
    server = http.createServer((request, response) => answer(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    root = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await agent.destroy();
  });
  beforeEach(() => {
    seen.length = 0;
  });

  async function drain<T>(events: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const event of events) out.push(event);
    return out;
  }

  it("requestJson parses the answer and records the id from the upstream's header", async () => {
    answer = (_request, response) => response.writeHead(200, { 'x-request-id': 'req-1' }).end('{"ok":true}');
    const providerCall = call();
    const value = await requestJson(local({ header: 'x-request-id' }), requestTarget(root), get, providerCall);
    expect(value).to.deep.equal({ ok: true });
    expect(providerCall.upstreamRequestId).to.equal('req-1');
  });

  it('requestJson records the id from a named field of the answer', async () => {
    answer = (_request, response) => response.end('{"responseId":"resp-7"}');
    const providerCall = call();
    await requestJson(local({ field: 'responseId' }), requestTarget(root), get, providerCall);
    expect(providerCall.upstreamRequestId).to.equal('resp-7');
  });

  it("a non-2xx goes to the upstream's mapper with its status and body", async () => {
    answer = (_request, response) => response.writeHead(429).end('{"message":"slow down"}');
    const error = await requestJson(local(undefined), requestTarget(root), get, call()).catch((failure) => failure);
    expect((error as Error).message).to.equal('mapped 429');
    expect(seen).to.deep.equal([{ status: 429, body: '{"message":"slow down"}' }]);
  });

  it('an answer that is not JSON → 502 naming the upstream, without quoting it', async () => {
    answer = (_request, response) => response.end('secret words');
    const error = await requestJson(local(undefined), requestTarget(root), get, call()).catch((failure) => failure);
    expect(error).to.be.instanceOf(UpstreamError);
    expect((error as Error).message).to.equal("Local's answer could not be read (not valid JSON).");
  });

  it('requestEvents records the id from the first event that carries the field, up to [DONE]', async () => {
    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(
        'data: {"n":1}\n\ndata: {"n":2,"responseId":"first"}\n\ndata: {"n":3,"responseId":"second"}\n\ndata: [DONE]\n\n',
      );
    };
    const providerCall = call();
    const events = await drain(
      requestEvents<{ n: number }>(local({ field: 'responseId' }), requestTarget(root), get, providerCall, noErrors),
    );
    expect(events.map((event) => event.n)).to.deep.equal([1, 2, 3]);
    expect(providerCall.upstreamRequestId).to.equal('first');
  });

  it("an error event ends the stream with the provider's mapped error, after the events before it", async () => {
    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end('data: {"n":1}\n\ndata: {"error":{"code":503}}\n\n');
    };
    const received: unknown[] = [];
    const failure = new UpstreamError('the error event');
    const errorOf = (event: unknown) => ((event as { error?: unknown }).error === undefined ? undefined : failure);
    const error = await (async () => {
      for await (const event of requestEvents(local(undefined), requestTarget(root), get, call(), errorOf)) {
        received.push(event);
      }
    })().catch((thrown) => thrown);
    expect(error).to.equal(failure);
    expect(received).to.deep.equal([{ n: 1 }]);
  });

  it('a 2xx that is not an event stream → 502 with its words', async () => {
    answer = (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<p>Log in</p>');
    const error = await drain(requestEvents(local(undefined), requestTarget(root), get, call(), noErrors)).catch(
      (thrown) => thrown,
    );
    expect((error as Error).message).to.equal('Local answered a streaming request without an event stream: Log in');
  });

  it('a refused connection → 502 upstream_unreachable', async () => {
    const closed = new URL('http://127.0.0.1:9/');
    const error = await requestJson(local(undefined), requestTarget(closed), get, call()).catch((thrown) => thrown);
    expect(error).to.include({ status: 502, code: 'upstream_unreachable' });
  });
});
