import { once } from 'node:events';
import { Agent, get, type IncomingMessage, type Server } from 'node:http';
import { expect } from 'chai';
import OpenAI, { type APIError } from 'openai';
import type { Stream } from 'openai/core/streaming';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { gigaChatChunks } from '../helpers/cassettes.ts';
import {
  closedPort,
  closeListener,
  connectionsLeft,
  type FaultyAnswer,
  GEMINI_WIRE,
  GIGACHAT_WIRE,
  type UpstreamWire,
  upstreamFaults,
} from '../helpers/faulty-upstream.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GeminiMock, geminiFixture, geminiStreamFixture } from '../helpers/gemini-mock.ts';
import { GigaChatMock } from '../helpers/gigachat-mock.ts';
import { leftOpen, resourcesBefore } from '../helpers/open-resources.ts';

/** One provider's local upstream, driven the same way for every fault. */
interface FaultyMock {
  server: Server;
  env(): Record<string, string>;
  /** The next chat requests, JSON or streamed, get this answer; `undefined` restores the recorded one. */
  answer(fault: FaultyAnswer | undefined): void;
  /** The next embeddings requests get this answer. */
  answerEmbeddings(fault: FaultyAnswer): void;
  /** Chat requests that reached the upstream so far. */
  chatCalls(): number;
  close(): Promise<void>;
}

interface Upstream {
  name: string;
  model: string;
  embeddingModel: string;
  wire: UpstreamWire;
  /** The events of a good stream before its finishing one (recorded shapes), and the text they carry. */
  events: unknown[];
  text: string;
  /** Chat calls one request makes when the upstream refuses our credentials (GigaChat refreshes once). */
  authAttempts: number;
  /** The upstream's own 429: its body and headers, and the Retry-After the client should get. */
  rateLimited: { body?: unknown; headers: Record<string, string>; retryAfter: string };
  start(): Promise<FaultyMock>;
  /** Variables that send the provider's API calls (not its OAuth) to another address. */
  apiAt(origin: string): Record<string, string>;
}

const gigaChatEvents = gigaChatChunks(['Начало', ' и продолжение']).slice(0, -1);
const geminiEvents = geminiStreamFixture('stream-text').slice(0, -1);

const UPSTREAMS: Upstream[] = [
  {
    name: 'GigaChat',
    model: 'GigaChat',
    embeddingModel: 'Embeddings',
    wire: GIGACHAT_WIRE,
    events: gigaChatEvents,
    text: 'Начало и продолжение',
    authAttempts: 2,
    rateLimited: { headers: { 'retry-after': '7' }, retryAfter: '7' },
    async start() {
      const mock = await GigaChatMock.start();
      const recorded = mock.chat;
      return {
        server: mock.server,
        env: () => mock.env(),
        answer: (fault) => {
          mock.chat = fault === undefined ? recorded : (_body, response) => fault(response);
        },
        answerEmbeddings: (fault) => {
          mock.embeddings = (_body, response) => fault(response);
        },
        chatCalls: () => mock.requestsTo('/api/v1/chat/completions').length,
        close: () => mock.close(),
      };
    },
    apiAt: (origin) => ({ GIGACHAT_BASE_URL: `${origin}/api/v1` }),
  },
  {
    name: 'Gemini',
    model: 'gemini-2.5-flash',
    embeddingModel: 'text-embedding-004',
    wire: GEMINI_WIRE,
    events: geminiEvents,
    text: 'There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y',
    authAttempts: 1,
    rateLimited: { body: geminiFixture('error-429-retry-info'), headers: {}, retryAfter: '35' },
    async start() {
      const mock = await GeminiMock.start();
      const recorded = { generate: mock.generate, stream: mock.stream };
      return {
        server: mock.server,
        env: () => mock.env(),
        answer: (fault) => {
          mock.generate = fault === undefined ? recorded.generate : (_body, response) => fault(response);
          mock.stream = fault === undefined ? recorded.stream : (_body, response) => fault(response);
        },
        answerEmbeddings: (fault) => {
          mock.embed = (_body, response) => fault(response);
        },
        chatCalls: () => mock.requestsFor('generateContent').length + mock.requestsFor('streamGenerateContent').length,
        close: () => mock.close(),
      };
    },
    apiAt: (origin) => ({ GEMINI_BASE_URL: origin }),
  },
];

interface Scene {
  upstream: Upstream;
  mock: FaultyMock;
  gateway: TestGateway;
  client: OpenAI;
  ask(): ReturnType<OpenAI['chat']['completions']['create']>;
  askStream(): Promise<Stream<ChatCompletionChunk>>;
}

/**
 * Runs one fault through the real gateway: a fresh mock and gateway (UPSTREAM_TIMEOUT_MS 300,
 * retries off, so each fault is one upstream call), then checks that the same gateway is still up
 * and, unless `env` moved the upstream away, answers a good request; and that once both are closed
 * no connection to the mock and no socket or timer of this process is left beyond the baseline.
 */
async function throughGateway(upstream: Upstream, scene: (scene: Scene) => Promise<void>, env = {}): Promise<void> {
  const baseline = await resourcesBefore();
  const mock = await upstream.start();
  const gateway = await startTestGateway({
    ...mock.env(),
    // Every call of a scene races this timer, not only the silent ones: a second leaves a busy machine room.
    UPSTREAM_TIMEOUT_MS: '1000',
    UPSTREAM_RETRIES: '0',
    ...env,
  });
  const messages = [{ role: 'user' as const, content: 'Сколько букв r в слове strawberry?' }];
  const client = gateway.client;
  let connections: number;
  try {
    await scene({
      upstream,
      mock,
      gateway,
      client,
      ask: () => client.chat.completions.create({ model: upstream.model, messages }),
      askStream: () => client.chat.completions.create({ model: upstream.model, messages, stream: true }),
    });
    expect((await fetch(`${gateway.url}/healthz`)).status, 'the gateway is still up').to.equal(200);
    if (Object.keys(env).length === 0) {
      mock.answer(undefined);
      const answer = await client.chat.completions.create({ model: upstream.model, messages });
      expect(answer.choices[0]?.message.content, 'a good request after the fault').to.be.a('string').and.not.equal('');
    }
  } finally {
    await gateway.close();
    connections = await connectionsLeft(mock.server);
    await mock.close();
  }
  expect(connections, 'connections to the upstream left open after the gateway closed').to.equal(0);
  expect(await leftOpen(baseline), 'sockets and timers left after both closed').to.deep.equal({});
}

/** The rejection of a call that must fail. */
async function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.fail('the call should have failed'),
    (error: unknown) => error,
  );
}

/** A failed SDK call: its exception class, HTTP status and OpenAI error fields. */
function expectOpenAIError(
  error: unknown,
  errorClass: abstract new (...args: never[]) => APIError,
  expected: { status: number | undefined; type: string; code: string },
): APIError {
  expect(error).to.be.instanceOf(errorClass);
  const apiError = error as APIError;
  expect(apiError.status, 'status').to.equal(expected.status);
  expect(apiError.type, 'type').to.equal(expected.type);
  expect(apiError.code, 'code').to.equal(expected.code);
  expect(apiError.param, 'param').to.equal(null);
  expect(apiError.message).to.be.a('string').and.not.equal('');
  return apiError;
}

/** Reads a stream to its end: the text it carried, and what it failed with. */
async function readStream(
  stream: Stream<ChatCompletionChunk>,
  onContent: () => void = () => {},
): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta.content;
      if (content) {
        text += content;
        onContent();
      }
    }
  } catch (error) {
    return { text, error };
  }
  return { text, error: undefined };
}

/** A stream that began well and then failed: every chunk before the fault, then one error event. */
async function expectBrokenStream(
  stream: Stream<ChatCompletionChunk>,
  upstream: Upstream,
  code: string,
  onContent?: () => void,
): Promise<APIError> {
  const { text, error } = await readStream(stream, onContent);
  expect(text, 'chunks before the fault').to.equal(upstream.text);
  // A mid-stream error event has no HTTP status: the SDK raises it as a plain APIError.
  return expectOpenAIError(error, OpenAI.APIError, { status: undefined, type: 'api_error', code });
}

const UPSTREAM_ERROR = { status: 502, type: 'api_error', code: 'upstream_error' };
const UNREACHABLE = { status: 502, type: 'api_error', code: 'upstream_unreachable' };
const TIMEOUT = { status: 504, type: 'api_error', code: 'upstream_timeout' };

describe('e2e: upstream failures through the real gateway (issue 7, point 9)', () => {
  for (const upstream of UPSTREAMS) {
    describe(upstream.name, () => {
      it('refused connection (nothing listening) → 502 upstream_unreachable, JSON and streamed', async () => {
        const port = await closedPort();
        await throughGateway(
          upstream,
          async ({ ask, askStream }) => {
            expectOpenAIError(await failureOf(ask()), OpenAI.InternalServerError, UNREACHABLE);
            expectOpenAIError(await failureOf(askStream()), OpenAI.InternalServerError, UNREACHABLE);
          },
          upstream.apiAt(`http://127.0.0.1:${port}`),
        );
      });

      it('listener closed between requests → 502 upstream_unreachable, then answers again once it is back', async () => {
        await throughGateway(upstream, async ({ mock, ask, askStream }) => {
          await ask(); // a pooled connection to the upstream now exists
          const listener = await closeListener(mock.server);
          expectOpenAIError(await failureOf(ask()), OpenAI.InternalServerError, UNREACHABLE);
          expectOpenAIError(await failureOf(askStream()), OpenAI.InternalServerError, UNREACHABLE);
          await listener.reopen();
        });
      });

      it('no answer within UPSTREAM_TIMEOUT_MS → 504 upstream_timeout, JSON and streamed', async () => {
        await throughGateway(upstream, async ({ mock, ask, askStream }) => {
          mock.answer(upstreamFaults.silence());
          expectOpenAIError(await failureOf(ask()), OpenAI.InternalServerError, TIMEOUT);
          expectOpenAIError(await failureOf(askStream()), OpenAI.InternalServerError, TIMEOUT);
          expect(mock.chatCalls()).to.equal(2);
        });
      });

      it('stream goes quiet after its first events → the chunks, then an upstream_timeout error event', async () => {
        await throughGateway(upstream, async ({ mock, askStream }) => {
          mock.answer(upstreamFaults.stallAfter(upstream.wire, upstream.events));
          await expectBrokenStream(await askStream(), upstream, 'upstream_timeout');
        });
      });

      it('connection reset mid-stream → the chunks, then an upstream_error event', async () => {
        await throughGateway(upstream, async ({ mock, askStream }) => {
          let seen: () => void = () => {};
          const clientSawChunks = new Promise<void>((resolve) => {
            seen = resolve;
          });
          mock.answer(upstreamFaults.resetAfter(upstream.wire, upstream.events, clientSawChunks));
          let chunks = 0;
          const error = await expectBrokenStream(await askStream(), upstream, 'upstream_error', () => {
            if (++chunks === upstream.events.length) seen();
          });
          expect(error.message).to.match(/connection/i);
        });
      });

      it('connection reset in the middle of a JSON body → 502 upstream_error', async () => {
        await throughGateway(upstream, async ({ mock, ask }) => {
          mock.answer(upstreamFaults.resetMidBody());
          expectOpenAIError(await failureOf(ask()), OpenAI.InternalServerError, UPSTREAM_ERROR);
          expect(mock.chatCalls()).to.equal(1);
        });
      });

      it('malformed JSON with 200 → 502 upstream_error', async () => {
        await throughGateway(upstream, async ({ mock, ask }) => {
          mock.answer(upstreamFaults.malformedJson());
          expectOpenAIError(await failureOf(ask()), OpenAI.InternalServerError, UPSTREAM_ERROR);
        });
      });

      it('a stream event that is not JSON → the chunks, then an upstream_error event', async () => {
        await throughGateway(upstream, async ({ mock, askStream }) => {
          mock.answer(upstreamFaults.malformedEvent(upstream.wire, upstream.events));
          await expectBrokenStream(await askStream(), upstream, 'upstream_error');
        });
      });

      it('a stream that ends without its final event → the chunks, then an upstream_error event', async () => {
        await throughGateway(upstream, async ({ mock, askStream }) => {
          mock.answer(upstreamFaults.truncatedStream(upstream.wire, upstream.events));
          const error = await expectBrokenStream(await askStream(), upstream, 'upstream_error');
          expect(error.message).to.contain('ended before the answer was complete');
        });
      });

      it('401 → 502 upstream_auth_error that SDKs do not retry, JSON and streamed', async () => {
        await throughGateway(upstream, async ({ mock, ask, askStream }) => {
          mock.answer(upstreamFaults.status(upstream.wire, 401));
          const auth = { status: 502, type: 'api_error', code: 'upstream_auth_error' };
          const error = expectOpenAIError(await failureOf(ask()), OpenAI.InternalServerError, auth);
          expect(error.headers?.get('x-should-retry')).to.equal('false');
          expect(mock.chatCalls()).to.equal(upstream.authAttempts);
          expectOpenAIError(await failureOf(askStream()), OpenAI.InternalServerError, auth);
        });
      });

      it('429 → 429 rate_limit_exceeded with Retry-After, JSON and streamed', async () => {
        await throughGateway(upstream, async ({ mock, ask, askStream }) => {
          const { body, headers, retryAfter } = upstream.rateLimited;
          mock.answer(upstreamFaults.status(upstream.wire, 429, body, headers));
          const limited = { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' };
          for (const call of [ask(), askStream()]) {
            const error = expectOpenAIError(await failureOf(call), OpenAI.RateLimitError, limited);
            expect(error.headers?.get('retry-after')).to.equal(retryAfter);
          }
          expect(mock.chatCalls()).to.equal(2);
        });
      });

      it('embeddings: silence → 504, malformed JSON and 500 → 502 upstream_error', async () => {
        await throughGateway(upstream, async ({ mock, client }) => {
          const embed = () => client.embeddings.create({ model: upstream.embeddingModel, input: ['один', 'два'] });
          mock.answerEmbeddings(upstreamFaults.silence());
          expectOpenAIError(await failureOf(embed()), OpenAI.InternalServerError, TIMEOUT);
          mock.answerEmbeddings(upstreamFaults.malformedJson());
          expectOpenAIError(await failureOf(embed()), OpenAI.InternalServerError, UPSTREAM_ERROR);
          mock.answerEmbeddings(upstreamFaults.status(upstream.wire, 500));
          expectOpenAIError(await failureOf(embed()), OpenAI.InternalServerError, UPSTREAM_ERROR);
        });
      });

      it('500 → 502 upstream_error, JSON and streamed', async () => {
        await throughGateway(upstream, async ({ mock, ask, askStream }) => {
          mock.answer(upstreamFaults.status(upstream.wire, 500));
          expectOpenAIError(await failureOf(ask()), OpenAI.InternalServerError, UPSTREAM_ERROR);
          expectOpenAIError(await failureOf(askStream()), OpenAI.InternalServerError, UPSTREAM_ERROR);
          expect(mock.chatCalls()).to.equal(2);
        });
      });
    });
  }

  describe('the leak checks themselves', () => {
    it('see a timer left running', async () => {
      const baseline = await resourcesBefore();
      const timer = setTimeout(() => {}, 60_000);
      try {
        expect(await leftOpen(baseline, 2)).to.deep.equal({ Timeout: 1 });
      } finally {
        clearTimeout(timer);
      }
      expect(await leftOpen(baseline)).to.deep.equal({});
    });

    it('see a pooled connection left open to the upstream', async () => {
      const mock = await GigaChatMock.start();
      const pool = new Agent({ keepAlive: true });
      try {
        const answer = await new Promise<IncomingMessage>((resolve) =>
          get(`${mock.baseUrl}/models`, { agent: pool }, resolve),
        );
        answer.resume();
        await once(answer, 'end');
        expect(await connectionsLeft(mock.server, 2)).to.equal(1);
        pool.destroy();
        expect(await connectionsLeft(mock.server)).to.equal(0);
      } finally {
        pool.destroy();
        await mock.close();
      }
    });
  });
});
