import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordedExchange, recordedStreamChunks } from '../helpers/cassettes.ts';

/*
 * The upstream of the benchmark: GigaChat's OAuth and chat endpoints answering with the recorded
 * bodies (see test/fixtures/gigachat/SOURCES.md), prepared once so the mock costs as little CPU as
 * possible. Run as its own process; prints `{"port": N}` when it listens.
 */

const STREAM_PIECES = 20;

function completionBody(): Buffer {
  return Buffer.from(JSON.stringify(recordedExchange('chat-plain').response));
}

function streamBody(): Buffer {
  const [first, last] = recordedStreamChunks('chat-stream');
  const events: string[] = [];
  for (let index = 0; index < STREAM_PIECES; index++) {
    const chunk = structuredClone(first);
    chunk.choices[0].delta = index === 0 ? { content: 'Раз', role: 'assistant' } : { content: ', ещё слово' };
    events.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  events.push(`data: ${JSON.stringify(last)}\n\n`, 'data: [DONE]\n\n');
  return Buffer.from(events.join(''));
}

const completion = completionBody();
const stream = streamBody();
const models = Buffer.from(JSON.stringify(recordedExchange('models', '/api/v1/models').response));

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const path = request.url ?? '';
    if (path.endsWith('/oauth')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ access_token: 'bench-token', expires_at: Date.now() + 30 * 60_000 }));
    } else if (path.endsWith('/models')) {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end(models);
    } else if (Buffer.concat(chunks).includes('"stream":true')) {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': randomUUID() });
      response.end(stream);
    } else {
      response.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': completion.length,
        'x-request-id': randomUUID(),
      });
      response.end(completion);
    }
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
