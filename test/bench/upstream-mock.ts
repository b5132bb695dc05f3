import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordedExchange, recordedStreamChunks } from '../helpers/cassettes.ts';
import { geminiFixture, geminiStreamFixture } from '../helpers/gemini-mock.ts';
import { nowMicros } from './clock.ts';
import { BENCH_GEMINI_KEY, BENCH_GIGACHAT_TOKEN } from './credentials.ts';

/*
 * The upstreams of the benchmark, in one process: GigaChat (OAuth and chat) and Gemini
 * (generateContent, streamGenerateContent?alt=sse) answering with recorded bodies (see
 * test/fixtures/*\/SOURCES.md), prepared once so the mock costs as little CPU as possible.
 * Both streams carry 20 text pieces and a finishing event, each its own event, written on its own
 * one turn of the event loop apart, as a model sends them; or with BENCH_STREAM_WRITES=whole all
 * in one write, the hardest case for a translator (it must translate them all at once).
 * With `--slow <events> <interval ms>` (BENCH_STREAMS, run.ts) every stream is slow instead, as a
 * model's long answer: that many small events (text pieces, then the finish), each its own write,
 * the interval apart, each text piece carrying the time the mock wrote it (`~T<µs since the epoch>~`,
 * slowStamp), which the client reads back through the gateway to measure each event's delivery lag.
 * Run as its own process; prints `{"port": N}` when it listens.
 */

const STREAM_PIECES = 20;
const WRITE_PER_EVENT = process.env.BENCH_STREAM_WRITES !== 'whole';
const SLOW = process.argv[2] === '--slow';
const SLOW_EVENTS = Number(process.argv[3] ?? 40);
const SLOW_INTERVAL_MS = Number(process.argv[4] ?? 250);
// Where a text event's stamp goes; JSON.stringify leaves it as it is.
const STAMP = '@STAMP@';

/** A slow stream's events as text around a stamp: the text events first, the finish (without a stamp) last. */
interface SlowStream {
  /** Each text event split at the place of its stamp. */
  text: Array<[string, string]>;
  finish: Buffer;
}

function slowText(event: string): [string, string] {
  const [before, after] = event.split(STAMP);
  return [before as string, after as string];
}

function gigaChatSlowStream(): SlowStream {
  const [first, last] = recordedStreamChunks('chat-stream');
  const text: Array<[string, string]> = [];
  for (let index = 0; index < SLOW_EVENTS - 1; index++) {
    const chunk = structuredClone(first);
    const content = ` слово ~T${STAMP}~`;
    chunk.choices[0].delta = index === 0 ? { content, role: 'assistant' } : { content };
    text.push(slowText(`data: ${JSON.stringify(chunk)}\n\n`));
  }
  return { text, finish: Buffer.from(`data: ${JSON.stringify(last)}\n\ndata: [DONE]\n\n`) };
}

function geminiSlowStream(): SlowStream {
  const recorded = geminiStreamFixture('stream-text');
  const text: Array<[string, string]> = [];
  for (let index = 0; index < SLOW_EVENTS - 1; index++) {
    const event = structuredClone(recorded[0]);
    event.candidates[0].content.parts[0].text = ` word ~T${STAMP}~`;
    text.push(slowText(`data: ${JSON.stringify(event)}\r\n\r\n`));
  }
  return { text, finish: Buffer.from(`data: ${JSON.stringify(recorded.at(-1))}\r\n\r\n`) };
}

function gigaChatStream(): Buffer[] {
  const [first, last] = recordedStreamChunks('chat-stream');
  const events: string[] = [];
  for (let index = 0; index < STREAM_PIECES; index++) {
    const chunk = structuredClone(first);
    chunk.choices[0].delta = index === 0 ? { content: 'Раз', role: 'assistant' } : { content: ', ещё слово' };
    events.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  events.push(`data: ${JSON.stringify(last)}\n\n`, 'data: [DONE]\n\n');
  return writes(events);
}

// Google frames its events with CRLF (test/fixtures/gemini/SOURCES.md).
function geminiStream(): Buffer[] {
  const recorded = geminiStreamFixture('stream-text');
  const events: string[] = [];
  for (let index = 0; index < STREAM_PIECES; index++) {
    const event = structuredClone(recorded[0]);
    event.candidates[0].content.parts[0].text = index === 0 ? 'There are' : ' a few more words';
    events.push(`data: ${JSON.stringify(event)}\r\n\r\n`);
  }
  events.push(`data: ${JSON.stringify(recorded.at(-1))}\r\n\r\n`);
  return writes(events);
}

/** A stream's events as the mock writes them: all in one piece, or each on its own. */
function writes(events: string[]): Buffer[] {
  return WRITE_PER_EVENT ? events.map((event) => Buffer.from(event)) : [Buffer.from(events.join(''))];
}

const bodies = {
  gigachatCompletion: Buffer.from(JSON.stringify(recordedExchange('chat-plain').response)),
  gigachatStream: gigaChatStream(),
  gigachatModels: Buffer.from(JSON.stringify(recordedExchange('models', '/api/v1/models').response)),
  geminiCompletion: Buffer.from(JSON.stringify(geminiFixture('generate-text'))),
  geminiStream: geminiStream(),
  geminiModels: Buffer.from(JSON.stringify(geminiFixture('models'))),
  gigachatSlowStream: SLOW ? gigaChatSlowStream() : undefined,
  geminiSlowStream: SLOW ? geminiSlowStream() : undefined,
};

// JSON answers carry a Content-Length, streams are chunked, as the real APIs send them.
function send(response: ServerResponse, status: number, type: string, body: Buffer | string): void {
  const headers = { 'content-type': type, 'x-request-id': randomUUID() };
  response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function sendStream(response: ServerResponse, pieces: readonly Buffer[]): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': randomUUID() });
  const next = (index: number) => {
    if (index === pieces.length - 1 || response.destroyed) response.end(pieces[index]);
    else {
      response.write(pieces[index]);
      setImmediate(next, index + 1);
    }
  };
  next(0);
}

function sendSlowStream(response: ServerResponse, stream: SlowStream): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': randomUUID() });
  const next = (index: number) => {
    if (response.destroyed) return;
    const piece = stream.text[index];
    if (piece === undefined) {
      response.end(stream.finish);
      return;
    }
    response.write(piece[0] + nowMicros() + piece[1]);
    setTimeout(next, SLOW_INTERVAL_MS, index + 1);
  };
  next(0);
}

const JSON_TYPE = 'application/json; charset=utf-8';

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const path = request.url ?? '';
    if (path.startsWith('/v1beta/')) {
      if (request.headers['x-goog-api-key'] !== BENCH_GEMINI_KEY) {
        return send(response, 400, JSON_TYPE, JSON.stringify(geminiFixture('error-api-key-invalid')));
      }
      if (path.includes(':streamGenerateContent')) {
        return bodies.geminiSlowStream === undefined
          ? sendStream(response, bodies.geminiStream)
          : sendSlowStream(response, bodies.geminiSlowStream);
      }
      if (path.includes(':generateContent')) return send(response, 200, JSON_TYPE, bodies.geminiCompletion);
      return send(response, 200, JSON_TYPE, bodies.geminiModels);
    }
    if (path.endsWith('/oauth')) {
      const token = { access_token: BENCH_GIGACHAT_TOKEN, expires_at: Date.now() + 30 * 60_000 };
      return send(response, 200, JSON_TYPE, JSON.stringify(token));
    }
    if (request.headers.authorization !== `Bearer ${BENCH_GIGACHAT_TOKEN}`) {
      return send(response, 401, JSON_TYPE, JSON.stringify({ status: 401, message: 'Unauthorized' }));
    }
    if (path.endsWith('/models')) return send(response, 200, JSON_TYPE, bodies.gigachatModels);
    if (Buffer.concat(chunks).includes('"stream":true')) {
      return bodies.gigachatSlowStream === undefined
        ? sendStream(response, bodies.gigachatStream)
        : sendSlowStream(response, bodies.gigachatSlowStream);
    }
    return send(response, 200, JSON_TYPE, bodies.gigachatCompletion);
  });
});

server.keepAliveTimeout = 60_000;
// Thousands of slow streams connect within seconds: the mock's backlog must not be what drops them.
server.listen({ port: 0, host: '127.0.0.1', backlog: SLOW ? 65_535 : 511 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
