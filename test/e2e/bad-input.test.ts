import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import { chatRequestSchema } from '../../gateway/openai/chat-request.schema.ts';
import { embeddingsRequestSchema } from '../../gateway/openai/embeddings-request.schema.ts';
import { MAX_JSON_DEPTH } from '../../gateway/openai/json-depth.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GeminiMock, geminiFixture } from '../helpers/gemini-mock.ts';
import { GigaChatMock, sendJson } from '../helpers/gigachat-mock.ts';
import { type Sample, scrape } from '../helpers/prometheus.ts';

const KEY = 'key-bad-input-0123';
const FLASH_KEY = 'key-flash-only-0123';

/** `levels` arrays inside one another, as JSON text (JSON.stringify could not write it). */
const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
/** A nested value the SDK can still serialise, deeper than the limit. */
const deepObject = (levels: number): unknown => {
  let value: unknown = {};
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
};

const MESSAGES = '"messages":[{"role":"user","content":"hi"}]';

/** Values that crashed a validator, a translator or a message: deep nesting, a client `toString`, a lone surrogate. */
const HOSTILE_VALUES = [
  nested(10_000),
  '{"toString":1,"valueOf":1}',
  '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
  '"\\ud800"',
  '[{"toString":1}]',
  '1e400',
];

describe('e2e: bad input never gets a 5xx (deep JSON, hostile values, broken framing, metric labels)', () => {
  let gigachat: GigaChatMock;
  let gemini: GeminiMock;
  let gateway: TestGateway;
  let client: OpenAI;
  const upstreamRequests = () => gigachat.requests.length + gemini.requests.length;
  const post = (path: string, body: string, key = KEY) =>
    fetch(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });

  before(async () => {
    gigachat = await GigaChatMock.start();
    gemini = await GeminiMock.start();
    // Gemini answers 404 for a model it does not have, as for any unknown name.
    gemini.generate = (_body, response, request) =>
      request.model === 'gemini-2.5-flash'
        ? sendJson(response, 200, geminiFixture('generate-text'))
        : sendJson(response, 404, geminiFixture('error-model-not-found'));
    const dir = tempDir();
    const file = join(dir, 'gateway.json');
    writeFileSync(
      file,
      JSON.stringify({
        keys: { open: { key: KEY }, flash: { key: FLASH_KEY, models: ['gemini-2.5-flash*'] } },
      }),
    );
    gateway = await startTestGateway(
      { ...gigachat.env(), ...gemini.env(), GATEWAY_CONFIG: file, LOG_PROMPTS: '1' },
      { dir },
    );
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });
  });
  after(async () => {
    await gateway.close();
    await gigachat.close();
    await gemini.close();
  });

  describe(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`, () => {
    const cases: Record<string, [path: string, body: string, param: string]> = {
      'tool parameters': [
        '/v1/chat/completions',
        `{"model":"GigaChat",${MESSAGES},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":${nested(10_000)}}}}}]}`,
        'tools',
      ],
      response_format: [
        '/v1/chat/completions',
        `{"model":"gemini-2.5-flash",${MESSAGES},"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${nested(10_000)}}}}`,
        'response_format',
      ],
      'an enum field (reasoning_effort)': [
        '/v1/chat/completions',
        `{"model":"GigaChat",${MESSAGES},"reasoning_effort":${nested(10_000)}}`,
        'reasoning_effort',
      ],
      'a field of a message': [
        '/v1/chat/completions',
        `{"model":"GigaChat","messages":[{"role":"user","content":"hi","extra":${nested(10_000)}}]}`,
        'messages',
      ],
      'an unknown field, through Koa': [
        '/v1/chat/completions?via=koa',
        `{"model":"GigaChat",${MESSAGES},"colour":${nested(10_000)}}`,
        'colour',
      ],
      encoding_format: [
        '/v1/embeddings',
        `{"model":"Embeddings","input":"x","encoding_format":${nested(10_000)}}`,
        'encoding_format',
      ],
      'the body itself': ['/v1/embeddings', nested(10_000), ''],
    };
    for (const [name, [path, body, param]] of Object.entries(cases)) {
      it(`${name}: 400 nesting_too_deep naming '${param}', no upstream call`, async () => {
        const before = upstreamRequests();
        const response = await post(path, body);
        expect(response.status).to.equal(400);
        const { error } = (await response.json()) as any;
        expect(error).to.include({ type: 'invalid_request_error', code: 'nesting_too_deep' });
        expect(error.param).to.equal(param === '' ? null : param);
        expect(upstreamRequests()).to.equal(before);
      });
    }

    it('return_format on /analyze/text: the same 400; a body not read shows no revision, so the later one’s shape', async () => {
      const response = await post('/analyze/text', `{"text":"x","return_format":${nested(10_000)}}`);
      expect(response.status).to.equal(400);
      expect(await response.json())
        .to.include({ code: 'nesting_too_deep' })
        .and.to.have.property('detail');
    });

    it('allows exactly the documented depth, and refuses one level more', async () => {
      // An unknown field makes the schema answer, so the depth check shows by which error comes first.
      const at = await post(
        '/v1/chat/completions',
        `{"model":"GigaChat",${MESSAGES},"x":${nested(MAX_JSON_DEPTH - 1)}}`,
      );
      expect(((await at.json()) as any).error.param).to.equal('x');
      const over = await post('/v1/chat/completions', `{"model":"GigaChat",${MESSAGES},"x":${nested(MAX_JSON_DEPTH)}}`);
      expect(((await over.json()) as any).error.code).to.equal('nesting_too_deep');
    });

    it('tool call arguments and tool results (JSON inside strings), sent by the openai SDK', async () => {
      const deep = JSON.stringify(deepObject(10_000 / 10)); // the SDK still writes this; the translators would not
      const before = upstreamRequests();
      for (const model of ['GigaChat', 'gemini-2.5-flash']) {
        const messages = (argumentsText: string, result: string): OpenAI.ChatCompletionMessageParam[] => [
          { role: 'user', content: 'hi' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: argumentsText } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: result },
        ];
        for (const [argumentsText, result, param] of [
          [deep, '{}', 'messages[1].tool_calls[0].function.arguments'],
          ['{}', deep, 'messages[2].content'],
          ['{}', `[${deep}]`, 'messages[2].content'],
        ] as const) {
          const error = await client.chat.completions
            .create({ model, messages: messages(argumentsText, result) })
            .catch((failure: unknown) => failure as InstanceType<typeof OpenAI.APIError>);
          expect(error, `${model} ${param}`).to.be.instanceOf(OpenAI.BadRequestError);
          expect((error as InstanceType<typeof OpenAI.APIError>).code).to.equal('nesting_too_deep');
          expect((error as InstanceType<typeof OpenAI.APIError>).param).to.equal(param);
        }
      }
      expect(upstreamRequests()).to.equal(before);
    });

    it('tool parameters deeper than the limit, sent by the openai SDK', async () => {
      const error = await client.chat.completions
        .create({
          model: 'gemini-2.5-flash',
          messages: [{ role: 'user', content: 'hi' }],
          tools: [
            { type: 'function', function: { name: 'f', parameters: deepObject(200) as Record<string, unknown> } },
          ],
        })
        .catch((failure: unknown) => failure);
      expect(error).to.be.instanceOf(OpenAI.BadRequestError);
      expect(error).to.include({ code: 'nesting_too_deep', param: 'tools' });
    });
  });

  it('answers every hostile value in every field with a 2xx or 4xx, never a 5xx', async function () {
    this.timeout(60_000);
    const chatFields = Object.keys(chatRequestSchema.properties);
    const messageFields = ['role', 'content', 'name', 'tool_calls', 'tool_call_id', 'function_call', 'refusal'];
    const bodies: Array<[string, string]> = [];
    for (const model of ['GigaChat', 'gemini-2.5-flash']) {
      for (const value of HOSTILE_VALUES) {
        for (const field of chatFields) {
          const fields = { model: `"${model}"`, messages: '[{"role":"user","content":"hi"}]', [field]: value };
          const text = Object.entries(fields).map(([name, json]) => `"${name}":${json}`);
          bodies.push(['/v1/chat/completions', `{${text.join(',')}}`]);
        }
        for (const field of messageFields) {
          bodies.push([
            '/v1/chat/completions',
            `{"model":"${model}","messages":[{"role":"assistant","content":"x","${field}":${value}},{"role":"user","content":"hi"}]}`,
          ]);
        }
        bodies.push(['/v1/chat/completions', `{"model":"${model}","messages":[{"role":"user","content":[${value}]}]}`]);
        for (const field of Object.keys(embeddingsRequestSchema.properties)) {
          bodies.push(['/v1/embeddings', `{"model":"Embeddings","input":"x","${field}":${value}}`]);
        }
        for (const field of ['text', 'system_prompt', 'return_format', 'model']) {
          bodies.push(['/analyze/text', `{"text":"x","${field}":${value}}`]);
        }
      }
    }
    const failures: string[] = [];
    for (const [path, body] of bodies) {
      const response = await post(path, body);
      const text = await response.text();
      if (response.status >= 500 || text.includes('"status":5'))
        failures.push(`${response.status} ${body.slice(0, 120)}`);
    }
    expect(failures).to.deep.equal([]);
    expect(gateway.logs.filter((line) => line.includes('unexpected error'))).to.deep.equal([]);
  });

  it('a chunked body Node refuses (a broken chunk size) is logged and counted as a 400, not a 500', async () => {
    for (const path of ['/v1/chat/completions', '/v1/embeddings', '/analyze/text']) {
      const from = gateway.logs.length;
      const answer = await rawExchange(
        gateway.url,
        `POST ${path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${KEY}\r\n` +
          'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"mod\r\nzz\r\n',
      );
      expect(answer).to.match(/^HTTP\/1\.1 400 /);
      const line = await logLine(gateway, from, (entry) => entry.path === path && entry.status !== undefined);
      expect(line, path).to.include({ status: 400, level: 'warn' });
    }
    const { samples } = await scrape(gateway.url);
    const requests = samples.filter((sample) => sample.name === 'gigagate_http_requests_total');
    for (const route of ['/v1/chat/completions', '/v1/embeddings', '/analyze/text']) {
      const statuses = requests.filter((sample) => sample.labels.route === route).map((sample) => sample.labels.status);
      expect(statuses, route).to.include('400');
      expect(statuses, route).not.to.include('500');
    }
    expect(gateway.logs.filter((line) => line.includes('unexpected error'))).to.deep.equal([]);
  });

  it('keeps metric label values bounded: unknown and refused model names, unknown routes and methods add no series', async () => {
    const flash = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: FLASH_KEY, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const ignore = () => undefined;
    const sendBadNames = async (round: number) => {
      for (let index = 0; index < 25; index++) {
        const tag = `${round}-${index}`;
        await client.chat.completions.create({ model: `gemini-nonexistent-${tag}`, messages }).catch(ignore);
        await flash.chat.completions.create({ model: `gemini-2.5-pro-${tag}`, messages }).catch(ignore);
        await client.chat.completions.create({ model: `no-such-family-${tag}`, messages }).catch(ignore);
        await client.chat.completions.create({ model: `gemini/../${tag}`, messages }).catch(ignore);
        await client.embeddings.create({ model: `Embeddings/../x${tag}`, input: 'x' }).catch(ignore);
        await fetch(`${gateway.url}/unknown/route-${tag}`);
      }
      for (const method of ['PROPFIND', 'MKCOL', 'LOCK', 'UNLOCK', 'SEARCH', 'PURGE', 'REPORT', 'MOVE', 'COPY']) {
        await rawExchange(
          gateway.url,
          `${method} /v1/models-${round} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n`,
        );
        await rawExchange(gateway.url, `${method} /v1/models HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n`);
      }
      // One good answer per round: its model is a label, and stays one series.
      await flash.chat.completions.create({ model: 'gemini-2.5-flash', messages });
    };
    const series = (samples: Sample[]) =>
      samples
        .filter((sample) => sample.name.startsWith('gigagate_'))
        .map((sample) => `${sample.name}${JSON.stringify(sample.labels)}`);

    await scrape(gateway.url); // the scrape's own series exist from here on
    await sendBadNames(1);
    const first = series((await scrape(gateway.url)).samples);
    await sendBadNames(2);
    const second = series((await scrape(gateway.url)).samples);
    expect(second.filter((entry) => !first.includes(entry))).to.deep.equal([]);
    const { text } = await scrape(gateway.url);
    for (const leaked of ['nonexistent', 'gemini-2.5-pro-', 'no-such-family', 'route-1', 'PROPFIND', '..']) {
      expect(text).not.to.contain(leaked);
    }
    expect(text).to.match(/method="other"/);
    expect(text).to.match(/model="gemini-2\.5-flash"/);
  });
});

/** Sends raw bytes on a new connection and resolves with everything the server wrote before it closed. */
function rawExchange(baseUrl: string, request: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      // A keep-alive answer with a length is complete once its body is in.
      const text = Buffer.concat(received).toString('latin1');
      const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text);
      const head = text.indexOf('\r\n\r\n');
      if (length !== null && head !== -1 && text.length >= head + 4 + Number(length[1])) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(received).toString('utf8')));
  });
}

/** The first log line (pino JSON) from index `from` on that matches, once it was written. */
async function logLine(
  gateway: TestGateway,
  from: number,
  matches: (entry: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (;;) {
    for (const line of gateway.logs.slice(from)) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (matches(entry)) return entry;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}
