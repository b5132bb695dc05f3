import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { httpRequest } from '../../gateway/lib/http-request.ts';
import { BENCH_GIGACHAT_TOKEN } from './credentials.ts';

/*
 * A reference for `BENCH_REFERENCE=1 npm run bench`, not a product: the least a translating
 * gateway must do for the bench's GigaChat requests. It reads an OpenAI chat request, sends
 * GigaChat's form of it the way the gateway does (an undici pool, http-request.ts), and answers
 * in OpenAI's form: JSON, or the event stream with every event parsed, translated and serialised, the events of one
 * upstream read written together. No validation, key check, limits, usage, metrics, logs or error
 * handling: what the gateway costs beyond this is its production features.
 * Usage: node test/bench/bare-translator.ts <upstream port>; prints `{"port": N}` when it listens.
 */

interface Message {
  role: string;
  content: string;
}
interface GigaChatChoice {
  message?: Message;
  delta?: Partial<Message>;
  finish_reason?: string;
}
interface GigaChatAnswer {
  created: number;
  model: string;
  choices: GigaChatChoice[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

const upstream = { origin: `http://127.0.0.1:${process.argv[2]}`, path: '/api/v1/chat/completions' };
const pool = new Agent();
const ID = 'chatcmpl-bare';

function readText(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });
}

const chunkOf = (event: GigaChatAnswer) => ({
  id: ID,
  object: 'chat.completion.chunk',
  created: event.created,
  model: event.model,
  choices: [{ index: 0, delta: event.choices[0]?.delta ?? {}, finish_reason: event.choices[0]?.finish_reason ?? null }],
});

const server = http.createServer(async (request, response) => {
  const asked = JSON.parse(await readText(request)) as { model: string; messages: Message[]; stream?: boolean };
  const stream = asked.stream === true;
  const reply = await httpRequest(upstream, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_GIGACHAT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: asked.model, messages: asked.messages, stream }),
    dispatcher: pool,
  });
  if (!stream) {
    const answer = JSON.parse(await reply.body.text()) as GigaChatAnswer;
    const body = JSON.stringify({
      id: ID,
      object: 'chat.completion',
      created: answer.created,
      model: answer.model,
      choices: answer.choices.map((choice, index) => ({
        index,
        message: { role: 'assistant', content: choice.message?.content ?? '' },
        finish_reason: choice.finish_reason,
      })),
      usage: answer.usage,
    });
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  let pending = '';
  const decoder = new TextDecoder();
  for await (const bytes of reply.body) {
    pending += decoder.decode(bytes, { stream: true });
    let out = '';
    for (let end = pending.indexOf('\n\n'); end !== -1; end = pending.indexOf('\n\n')) {
      const data = pending.slice('data: '.length, end);
      pending = pending.slice(end + 2);
      out += data === '[DONE]' ? 'data: [DONE]\n\n' : `data: ${JSON.stringify(chunkOf(JSON.parse(data)))}\n\n`;
    }
    if (out !== '') response.write(out);
  }
  response.end();
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
