import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import { responsesRequestSchema } from '../../gateway/openai/responses-request.schema.ts';
import { apiError } from '../helpers/api-error.ts';
import { gigaChatChunks, gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GeminiMock, geminiFixture } from '../helpers/gemini-mock.ts';
import { GigaChatMock, sendJson, writeGigaChatStream } from '../helpers/gigachat-mock.ts';
import { samplesOf, scrape, seriesValue } from '../helpers/prometheus.ts';

/*
 * What the chat path guarantees holds for POST /v1/responses and its stored responses too: keys
 * see only their own, key policies and usage apply, metrics and logs count it the same way, bad
 * input is a named 400, provider errors name the Responses field, and aliases fall back.
 */

const ADMIN_KEY = 'admin-key-for-responses-0123456789';
const RESPONSES = '/v1/responses';

/** A GATEWAY_CONFIG file in a fresh folder (the gateway's store goes there too). */
function configDir(content: unknown): { dir: string; file: string } {
  const dir = tempDir();
  const file = join(dir, 'gateway.json');
  writeFileSync(file, JSON.stringify(content));
  return { dir, file };
}

const clientFor = (gateway: TestGateway, apiKey: string) =>
  new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });

/** Runs a Responses stream to its end; its events, and the response it ended with. */
async function readStream(stream: ReturnType<OpenAI['responses']['stream']>) {
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return { events, final: await stream.finalResponse() };
}

describe('e2e: Responses API guarantees', () => {
  let gigachat: GigaChatMock;
  let gemini: GeminiMock;
  let gateway: TestGateway | undefined;
  const chatCalls = () => gigachat.requestsTo('/api/v1/chat/completions').length;
  const lastGigaChatBody = () => JSON.parse(gigachat.requestsTo('/api/v1/chat/completions').at(-1)?.body ?? '{}');

  beforeEach(async () => {
    gigachat = await GigaChatMock.start();
    gemini = await GeminiMock.start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await gigachat.close();
    await gemini.close();
  });

  async function start(env: Record<string, string> = {}, dir?: string): Promise<TestGateway> {
    gateway = await startTestGateway({ ...gigachat.env(), ...gemini.env(), ...env }, dir === undefined ? {} : { dir });
    return gateway;
  }

  describe('(1) a key sees only its own responses', () => {
    it('gives key b a 404 for key a’s response on GET, DELETE, input_items, cancel and previous_response_id', async () => {
      const gateway = await start({ GATEWAY_API_KEYS: 'a:key-a,b:key-b' });
      const a = clientFor(gateway, 'key-a');
      const b = clientFor(gateway, 'key-b');
      const mine = await a.responses.create({ model: 'GigaChat-2-Max', input: 'Секрет ключа a' });
      const calls = chatCalls();

      const refusals: Array<[string, () => Promise<unknown>]> = [
        ['retrieve', () => b.responses.retrieve(mine.id)],
        ['delete', () => b.responses.delete(mine.id)],
        ['input_items', () => b.responses.inputItems.list(mine.id)],
        ['cancel', () => b.responses.cancel(mine.id)],
      ];
      for (const [what, call] of refusals) {
        const error = await apiError(call());
        expect(error.status, what).to.equal(404);
        expect(error.type, what).to.equal('invalid_request_error');
        expect((error.error as { message?: string }).message, what).to.equal(
          `Response with id '${mine.id}' not found.`,
        );
      }
      const continued = await apiError(
        b.responses.create({ model: 'GigaChat-2-Max', input: 'И что там?', previous_response_id: mine.id }),
      );
      expect(continued.status).to.equal(404);
      expect(continued.param).to.equal('previous_response_id');
      expect(continued.code).to.equal('previous_response_not_found');
      const referenced = await apiError(
        b.responses.create({
          model: 'GigaChat-2-Max',
          input: [{ type: 'item_reference', id: mine.output[0]?.id as string }],
        }),
      );
      expect(referenced.status).to.equal(404);
      expect(referenced.param).to.equal('input[0].id');
      expect(chatCalls(), 'no upstream call for a refused continuation').to.equal(calls);

      // Key a still has it whole: b's DELETE removed nothing, b's cancel changed nothing.
      const kept = await a.responses.retrieve(mine.id);
      expect(kept.status).to.equal('completed');
      expect((await a.responses.inputItems.list(mine.id)).data).to.have.length(1);
      const next = await a.responses.create({ model: 'GigaChat-2-Max', input: 'Ещё', previous_response_id: mine.id });
      expect(next.previous_response_id).to.equal(mine.id);
      expect(lastGigaChatBody().messages.map((message: { role: string }) => message.role)).to.deep.equal([
        'user',
        'assistant',
        'user',
      ]);
    });
  });

  describe('(2) a key’s model list and limits apply to /v1/responses as to chat', () => {
    const CONFIG = {
      keys: {
        narrow: { key: 'key-narrow', models: ['GigaChat-2-*'], requestsPerMinute: 2 },
        wide: { key: 'key-wide' },
      },
    };

    it('refuses a model outside the key’s list with 403 model_not_allowed, JSON or streamed, before any upstream call', async () => {
      const { dir, file } = configDir(CONFIG);
      const gateway = await start({ GATEWAY_CONFIG: file }, dir);
      const narrow = clientFor(gateway, 'key-narrow');
      for (const stream of [false, true]) {
        const error = await apiError(narrow.responses.create({ model: 'GigaChat', input: 'Привет', stream }));
        expect(error, `stream ${stream}`).to.be.instanceOf(OpenAI.PermissionDeniedError);
        expect(error.code).to.equal('model_not_allowed');
        expect(error.param).to.equal('model');
        expect(error.message).to.include('"gigachat/GigaChat"');
      }
      const chat = await apiError(
        narrow.chat.completions.create({ model: 'GigaChat', messages: [{ role: 'user', content: 'Привет' }] }),
      );
      expect(chat.status).to.equal(403);
      expect(chatCalls()).to.equal(0);
      expect((await narrow.responses.create({ model: 'GigaChat-2-Pro', input: 'Привет' })).status).to.equal(
        'completed',
      );
    });

    it('counts Responses calls against requestsPerMinute with chat: the third call gets 429 with Retry-After', async () => {
      const { dir, file } = configDir(CONFIG);
      const gateway = await start({ GATEWAY_CONFIG: file }, dir);
      const narrow = clientFor(gateway, 'key-narrow');
      await narrow.chat.completions.create({ model: 'GigaChat-2-Max', messages: [{ role: 'user', content: 'Раз' }] });
      await narrow.responses.create({ model: 'GigaChat-2-Max', input: 'Два' });
      const error = await apiError(narrow.responses.create({ model: 'GigaChat-2-Max', input: 'Три' }));
      expect(error).to.be.instanceOf(OpenAI.RateLimitError);
      expect(error.code).to.equal('rate_limit_exceeded');
      expect(error.message).to.match(/"narrow": 2 requests per minute/);
      expect(Number(error.headers?.get('retry-after'))).to.be.within(1, 120);
      expect(chatCalls()).to.equal(2);
      // Other keys are unaffected.
      await clientFor(gateway, 'key-wide').responses.create({ model: 'GigaChat-2-Max', input: 'Четыре' });
    });
  });

  describe('(3, 4) usage and metrics count Responses calls', () => {
    it('shows a Responses call’s tokens at GET /admin/usage, JSON and streamed alike', async () => {
      const gateway = await start({ GATEWAY_API_KEYS: 'team:key-team', GATEWAY_ADMIN_KEY: ADMIN_KEY });
      await gateway.client.responses.create({ model: 'GigaChat-2-Max', input: 'Привет' }); // 17 + 3 (chat-plain)
      gigachat.chat = (_body, response) => writeGigaChatStream(response, gigaChatChunks(['Раз', ', два']));
      await readStream(gateway.client.responses.stream({ model: 'GigaChat-2-Max', input: 'Считай' })); // 17 + 10
      const answer = await fetch(`${gateway.url}/admin/usage`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(answer.status).to.equal(200);
      const body = (await answer.json()) as any;
      expect(body.data).to.deep.equal([
        {
          date: new Date().toISOString().slice(0, 10),
          client: 'team',
          provider: 'gigachat',
          model: 'GigaChat-2-Max',
          credential: 'operator:default',
          requests: 2,
          prompt_tokens: 34,
          completion_tokens: 13,
        },
      ]);
      expect(body.month.keys).to.deep.equal([{ client: 'team', used_tokens: 47 }]);
    });

    it('counts Responses requests and tokens in /metrics under route patterns, never a response id', async () => {
      const gateway = await start({ GATEWAY_API_KEYS: 'team:key-team' });
      const created = await gateway.client.responses.create({ model: 'GigaChat-2-Max', input: 'Привет' });
      gigachat.chat = (_body, response) => writeGigaChatStream(response, gigaChatChunks(['Раз', ', два']));
      await readStream(gateway.client.responses.stream({ model: 'GigaChat-2-Max', input: 'Считай' }));
      await gateway.client.responses.retrieve(created.id);
      await gateway.client.responses.inputItems.list(created.id);
      await apiError(gateway.client.responses.retrieve('resp_does_not_exist'));

      const { samples, text } = await scrape(gateway.url);
      const answered = { route: RESPONSES, method: 'POST', provider: 'gigachat', model: 'GigaChat-2-Max' };
      expect(seriesValue(samples, 'gigagate_http_requests_total', { ...answered, status: '200' })).to.equal(2);
      const byId = samplesOf(samples, 'gigagate_http_requests_total', { route: '/v1/responses/:id', method: 'GET' });
      expect(byId.map((sample) => [sample.labels.status, sample.value]).sort()).to.deep.equal([
        ['200', 1],
        ['404', 1],
      ]);
      expect(
        samplesOf(samples, 'gigagate_http_requests_total', { route: '/v1/responses/:id/input_items', status: '200' }),
      ).to.have.length(1);
      const tokens = (type: string) =>
        samplesOf(samples, 'gigagate_tokens_total', { provider: 'gigachat', client: 'team', type }).reduce(
          (sum, sample) => sum + sample.value,
          0,
        );
      expect(tokens('prompt')).to.equal(34);
      expect(tokens('completion')).to.equal(13);
      expect(text).not.to.contain(created.id);
      expect(text).not.to.contain('resp_does_not_exist');
      expect(text).not.to.contain('key-team');
    });
  });

  describe('(5) prompts in the logs', () => {
    const PROMPT = 'PROMPT-responses: my card is 4111 1111';
    const INSTRUCTIONS = 'PROMPT-instructions: speak as a bank';
    const ANSWER = 'ANSWER-responses: card noted';

    async function askOnce(gateway: TestGateway, id: string, stream: boolean) {
      const from = gateway.logs.length;
      const request = { model: 'GigaChat-2-Max', instructions: INSTRUCTIONS, input: `${PROMPT} ${id}` };
      if (stream) await readStream(gateway.client.responses.stream(request, { headers: { 'x-request-id': id } }));
      else await gateway.client.responses.create(request, { headers: { 'x-request-id': id } });
      await gateway.waitForLog((line) => line.includes(`"requestId":"${id}"`) && line.includes('"status"'), from);
    }

    const script = () => {
      gigachat.chat = (body, response) =>
        body.stream === true
          ? writeGigaChatStream(response, gigaChatChunks([ANSWER]))
          : sendJson(response, 200, gigaChatCompletion(ANSWER));
    };

    it('keeps prompts, instructions and answers out of the logs by default', async () => {
      const gateway = await start();
      script();
      await askOnce(gateway, 'responses-json', false);
      await askOnce(gateway, 'responses-stream', true);
      const text = gateway.logs.join('');
      for (const secret of [PROMPT, INSTRUCTIONS, ANSWER, 'PROMPT-']) expect(text).not.to.contain(secret);
    });

    it('LOG_PROMPTS=1: each prompt once, in its request’s "prompt" line with the instructions; never the answer', async () => {
      const gateway = await start({ LOG_PROMPTS: '1' });
      script();
      for (const [id, stream] of [
        ['responses-json', false],
        ['responses-stream', true],
      ] as const) {
        await askOnce(gateway, id, stream);
        const lines = gateway.logs.filter((line) => line.includes(`${PROMPT} ${id}`));
        expect(lines, id).to.have.length(1);
        const line = JSON.parse(lines[0] as string);
        expect(line).to.include({ msg: 'prompt', requestId: id, level: 'info' });
        expect(line.prompt.model).to.equal('GigaChat-2-Max');
        expect(line.prompt.instructions).to.equal(INSTRUCTIONS);
        expect(line.prompt.messages.at(-1)).to.deep.equal({ role: 'user', content: `${PROMPT} ${id}` });
      }
      expect(gateway.logs.join('')).not.to.contain(ANSWER);
    });
  });

  describe('(6) bad input: a 400 in OpenAI’s shape naming the field, never a 5xx', () => {
    const KEY = 'key-bad-input-responses';
    let gateway: TestGateway;
    const upstreamCalls = () => gigachat.requests.length + gemini.requests.length;
    const send = (method: string, path: string, body?: string) =>
      fetch(`${gateway.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
      });
    const post = (body: unknown) => send('POST', RESPONSES, typeof body === 'string' ? body : JSON.stringify(body));

    async function expectRefusal(answer: Response, status: number, param: string | null, what: string) {
      const body = (await answer.json()) as any;
      expect(answer.status, `${what}: ${JSON.stringify(body)}`).to.equal(status);
      expect(body.error, what).to.have.all.keys('message', 'type', 'param', 'code');
      expect(body.error.type, what).to.equal('invalid_request_error');
      expect(body.error.param, what).to.equal(param);
      expect(body.error.message, what).to.be.a('string').and.not.equal('');
      return body.error;
    }

    beforeEach(async () => {
      gateway = await start({ GATEWAY_API_KEYS: `bad:${KEY}` });
    });

    it('refuses bad bodies naming the field, with no upstream call', async () => {
      const user = (content: unknown) => [{ role: 'user', content }];
      const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
      const cases: Array<[string, unknown, string, string?]> = [
        ['a hosted tool', { model: 'GigaChat', input: 'x', tools: [{ type: 'web_search' }] }, 'tools[0].type'],
        [
          'an unknown input item type',
          { model: 'GigaChat', input: [{ type: 'computer_call_output', call_id: 'c', output: {} }] },
          'input[0].type',
        ],
        [
          'input_file with file_url',
          {
            model: 'gemini-2.5-flash',
            input: user([{ type: 'input_file', file_url: 'https://example.com/a.pdf' }]),
          },
          'input[0].content[0].file_url',
          'unsupported_parameter',
        ],
        ['max_tool_calls', { model: 'GigaChat', input: 'x', max_tool_calls: 3 }, 'max_tool_calls'],
        [
          'an assistant message with input_image',
          {
            model: 'GigaChat',
            input: [
              { role: 'assistant', content: [{ type: 'input_image', image_url: 'https://example.com/a.png' }] },
              { role: 'user', content: 'x' },
            ],
          },
          'input[0].content[0].type',
        ],
        ['background without store', { model: 'GigaChat', input: 'x', background: true, store: false }, 'store'],
        ['a non-string model', { model: 42, input: 'x' }, 'model'],
        ['no input', { model: 'GigaChat' }, 'input'],
        ['an empty input list', { model: 'GigaChat', input: [] }, 'input'],
        [
          'only instructions',
          { model: 'GigaChat', instructions: 'x', input: [{ role: 'system', content: 'y' }] },
          'input',
        ],
        ['a bad text.format', { model: 'GigaChat', input: 'x', text: { format: { type: 'xml' } } }, 'text.format.type'],
        [
          'a bad reasoning.effort',
          { model: 'GigaChat', input: 'x', reasoning: { effort: 'huge' } },
          'reasoning.effort',
        ],
        ['an unknown field', { model: 'GigaChat', input: 'x', prompt: { id: 'pmpt_1' } }, 'prompt'],
        [
          'deeply nested tool parameters',
          `{"model":"GigaChat","input":"x","tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{"a":${deep(10_000)}}}}]}`,
          'tools',
          'nesting_too_deep',
        ],
      ];
      for (const [what, body, param, code] of cases) {
        const error = await expectRefusal(await post(body), 400, param, what);
        if (code !== undefined) expect(error.code, what).to.equal(code);
      }
      expect(upstreamCalls()).to.equal(0);
    });

    it('answers 404 naming previous_response_id for a response that does not exist', async () => {
      const error = await expectRefusal(
        await post({ model: 'GigaChat', input: 'x', previous_response_id: 'resp_0123456789abcdef' }),
        404,
        'previous_response_id',
        'previous_response_id',
      );
      expect(error.code).to.equal('previous_response_not_found');
      expect(upstreamCalls()).to.equal(0);
    });

    it('refuses bad input_items queries naming the parameter', async () => {
      const created = (await (await post({ model: 'GigaChat', input: 'x' })).json()) as any;
      const items = `${RESPONSES}/${created.id}/input_items`;
      for (const [query, param] of [
        ['?limit=0', 'limit'],
        ['?limit=101', 'limit'],
        ['?limit=ten', 'limit'],
        ['?order=sideways', 'order'],
        ['?order=asc&order=desc', 'order'],
        ['?after=msg_nothing_here', 'after'],
      ] as const) {
        await expectRefusal(await send('GET', `${items}${query}`), 400, param, query);
      }
      expect((await send('GET', `${items}?limit=1&order=asc`)).status).to.equal(200);
    });

    it('answers every hostile value in every field with a 2xx or 4xx, never a 5xx', async function () {
      this.timeout(60_000);
      const hostile = [
        '['.repeat(10_000) + ']'.repeat(10_000),
        '{"toString":1,"valueOf":1}',
        '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
        '"\\ud800"',
        '[{"toString":1}]',
        '1e400',
      ];
      const itemFields: Record<string, string> = {
        message: '"role":"user","content":"hi"',
        function_call: '"call_id":"c1","name":"f","arguments":"{}"',
        function_call_output: '"call_id":"c1","output":"ok"',
        item_reference: `"id":"msg_${'0'.repeat(52)}"`,
      };
      const bodies: string[] = [];
      for (const model of ['GigaChat', 'gemini-2.5-flash']) {
        for (const value of hostile) {
          for (const field of Object.keys(responsesRequestSchema.properties)) {
            const fields = { model: `"${model}"`, input: '"hi"', [field]: value };
            bodies.push(`{${Object.entries(fields).map(([name, json]) => `"${name}":${json}`)}}`);
          }
          for (const [type, fields] of Object.entries(itemFields)) {
            for (const field of ['role', 'content', 'call_id', 'name', 'arguments', 'output', 'id', 'status']) {
              bodies.push(`{"model":"${model}","input":[{"type":"${type}",${fields},"${field}":${value}}]}`);
            }
          }
          bodies.push(`{"model":"${model}","input":[{"role":"user","content":[${value}]}]}`);
          bodies.push(`{"model":"${model}","input":[${value}]}`);
          // Nested places: the value where a string, schema or choice goes.
          for (const nested of [
            `"text":{"format":${value}}`,
            `"text":{"format":{"type":"json_schema","name":"n","schema":${value}}}`,
            `"tools":[{"type":"function","name":"f","parameters":${value}}]`,
            `"tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":${value}}`,
            `"reasoning":{"effort":${value}}`,
          ]) {
            bodies.push(`{"model":"${model}","input":"hi",${nested}}`);
          }
          for (const part of [
            `{"type":"input_text","text":${value}}`,
            `{"type":"input_image","image_url":${value}}`,
            `{"type":"input_file","file_data":${value},"filename":"a.pdf"}`,
            `{"type":"input_file","file_id":${value}}`,
          ]) {
            bodies.push(`{"model":"${model}","input":[{"role":"user","content":[${part}]}]}`);
          }
        }
      }
      const failures: string[] = [];
      for (const body of bodies) {
        const answer = await post(body);
        const text = await answer.text();
        if (answer.status >= 500 || text.includes('"status":5'))
          failures.push(`${answer.status} ${body.slice(0, 120)}`);
      }
      expect(failures).to.deep.equal([]);
      expect(gateway.logs.filter((line) => line.includes('unexpected error'))).to.deep.equal([]);
    });
  });

  describe('(7) a provider’s 400 about a chat field names the Responses field', () => {
    it('GigaChat refuses text.format json_object: param text.format, not response_format', async () => {
      const gateway = await start();
      for (const stream of [false, true]) {
        const error = await apiError(
          gateway.client.responses.create({
            model: 'GigaChat-2-Max',
            input: 'JSON please',
            text: { format: { type: 'json_object' } },
            stream,
          }),
        );
        expect(error.status, `stream ${stream}`).to.equal(400);
        expect(error.param, `stream ${stream}`).to.equal('text.format');
        expect(error.code).to.equal('unsupported_parameter');
      }
      expect(chatCalls()).to.equal(0);
    });

    it('GigaChat refuses an image URL: the param names input[0].content[1], counted past the instructions', async () => {
      const gateway = await start();
      const error = await apiError(
        gateway.client.responses.create({
          model: 'GigaChat-2-Max',
          instructions: 'Describe images.',
          input: [
            {
              role: 'user',
              content: [
                { type: 'input_text', text: 'What is this?' },
                { type: 'input_image', image_url: 'http://example.com/cat.png', detail: 'auto' },
              ],
            },
          ],
        }),
      );
      expect(error.status).to.equal(400);
      expect(error.code).to.equal('invalid_image_url');
      expect(error.param).to.match(/^input\[0\]\.content\[1\]/);
      expect(error.param).not.to.include('messages');
    });

    // Inside an item too the field is named as the client sent it, and a function_call merged into
    // the assistant message before it is named as its own item.
    it('names the Responses field itself, not the chat field inside the item', async () => {
      const gateway = await start();
      const user = { role: 'user', content: 'x' };
      const call = (args: string) => ({ type: 'function_call', call_id: 'c1', name: 'f', arguments: args });
      const deep = `${'{"a":'.repeat(100)}{}${'}'.repeat(100)}`; // JSON in a string, past the depth limit
      const cases: Array<[string, unknown[], string]> = [
        [
          'an http image URL',
          [{ role: 'user', content: [{ type: 'input_image', image_url: 'http://example.com/a.png' }] }],
          'input[0].content[0].image_url',
        ],
        [
          'file_data that is no data: URL',
          [{ role: 'user', content: [{ type: 'input_file', file_data: 'plain', filename: 'a.pdf' }] }],
          'input[0].content[0].file_data',
        ],
        [
          'arguments that are not JSON',
          [user, call('{bad'), { type: 'function_call_output', call_id: 'c1', output: 'ok' }],
          'input[1].arguments',
        ],
        [
          'arguments of a call after an assistant message',
          [
            user,
            { role: 'assistant', content: 'Сейчас.' },
            call('{bad'),
            { type: 'function_call_output', call_id: 'c1', output: 'ok' },
          ],
          'input[2].arguments',
        ],
        [
          'an output for no call',
          [user, { type: 'function_call_output', call_id: 'nope', output: 'ok' }],
          'input[1].call_id',
        ],
        [
          'an output nested too deep',
          [user, call('{}'), { type: 'function_call_output', call_id: 'c1', output: deep }],
          'input[2].output',
        ],
        ['a call with no output', [user, call('{}'), { role: 'user', content: 'y' }], 'input[1].call_id'],
      ];
      for (const [what, input, param] of cases) {
        const answer = await fetch(`${gateway.url}${RESPONSES}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gemini-2.5-flash', input }),
        });
        const { error } = (await answer.json()) as any;
        expect(answer.status, what).to.equal(400);
        expect(error.param, what).to.equal(param);
      }
    });

    it('GigaChat refuses tool parameters that are not an object schema: param tools[0].parameters', async () => {
      const gateway = await start();
      const error = await apiError(
        gateway.client.responses.create({
          model: 'GigaChat-2-Max',
          input: 'x',
          tools: [{ type: 'function', name: 'f', parameters: { type: 'array' }, strict: false }],
        }),
      );
      expect(error.status).to.equal(400);
      expect(error.param).to.equal('tools[0].parameters');
    });

    it('Gemini refuses a tool_choice naming no tool: param tool_choice.name', async () => {
      const gateway = await start();
      const error = await apiError(
        gateway.client.responses.create({
          model: 'gemini-2.5-flash',
          input: 'x',
          tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: {} }, strict: false }],
          tool_choice: { type: 'function', name: 'g' },
        }),
      );
      expect(error.status).to.equal(400);
      expect(error.param).to.equal('tool_choice.name');
      expect(gemini.requests).to.have.length(0);
    });
  });

  describe('(8) retries and fallbacks', () => {
    const ALIASES = { aliases: { smart: { model: 'GigaChat-2-Max', fallbacks: ['gemini-2.5-flash'] } } };
    // GigaChat's error body is {status, message} (test/fixtures/gigachat/SOURCES.md, "Error bodies").
    const overloaded = () => {
      gigachat.chat = (_body, response) => sendJson(response, 503, { status: 503, message: 'HTTP 503 from the mock' });
    };

    it('answers an alias from its fallback when the first model fails with 503; model names the one that answered', async () => {
      const { dir, file } = configDir(ALIASES);
      const gateway = await start({ GATEWAY_CONFIG: file }, dir);
      overloaded();
      const { data, response } = await gateway.client.responses
        .create({ model: 'smart', input: 'How many r?' })
        .withResponse();
      expect(data.model).to.equal('gemini-2.5-flash');
      expect(data.output_text).to.equal(geminiFixture('generate-text').candidates[0].content.parts[0].text);
      expect(response.headers.get('x-gigagate-model')).to.equal('gemini/gemini-2.5-flash');
      expect(chatCalls()).to.equal(1);
      expect(gemini.requestsFor('generateContent')).to.have.length(1);
      expect((await gateway.client.responses.retrieve(data.id)).model).to.equal('gemini-2.5-flash');

      const { events, final } = await readStream(gateway.client.responses.stream({ model: 'smart', input: 'Again' }));
      expect(final.model).to.equal('gemini-2.5-flash');
      const created = events[0] as OpenAI.Responses.ResponseCreatedEvent;
      expect(created.response.model).to.equal('gemini-2.5-flash');
      expect(gemini.requestsFor('streamGenerateContent')).to.have.length(1);
    });

    it('answers the alias from its first model when it is up', async () => {
      const { dir, file } = configDir(ALIASES);
      const gateway = await start({ GATEWAY_CONFIG: file }, dir);
      const response = await gateway.client.responses.create({ model: 'smart', input: 'Привет' });
      expect(response.model).to.equal('GigaChat-2-Max');
      expect(gemini.requests).to.have.length(0);
    });

    it('retries a 503 within UPSTREAM_RETRIES and answers', async () => {
      const gateway = await start({ UPSTREAM_RETRIES: '2', UPSTREAM_RETRY_BASE_MS: '1' });
      let failures = 1;
      gigachat.chat = (_body, response) =>
        failures-- > 0
          ? sendJson(response, 503, { status: 503, message: 'HTTP 503 from the mock' })
          : sendJson(response, 200, gigaChatCompletion('Со второго раза.'));
      const response = await gateway.client.responses.create({ model: 'GigaChat-2-Max', input: 'Привет' });
      expect(response.output_text).to.equal('Со второго раза.');
      expect(chatCalls()).to.equal(2);
    });
  });

  describe('(9) store: false', () => {
    it('keeps no response: GET is 404 and previous_response_id to it is 404', async () => {
      const gateway = await start();
      gigachat.chat = (body, response) =>
        body.stream === true
          ? writeGigaChatStream(response, gigaChatChunks(['Раз']))
          : sendJson(response, 200, gigaChatCompletion('Раз'));
      const unstored = await gateway.client.responses.create({ model: 'GigaChat-2-Max', input: 'x', store: false });
      expect(unstored).to.have.property('store', false); // not in the SDK's type
      expect(unstored.status).to.equal('completed');
      const { final } = await readStream(
        gateway.client.responses.stream({ model: 'GigaChat-2-Max', input: 'y', store: false }),
      );
      for (const id of [unstored.id, final.id]) {
        expect((await apiError(gateway.client.responses.retrieve(id))).status).to.equal(404);
        expect((await apiError(gateway.client.responses.inputItems.list(id))).status).to.equal(404);
        const continued = await apiError(
          gateway.client.responses.create({ model: 'GigaChat-2-Max', input: 'z', previous_response_id: id }),
        );
        expect(continued.status).to.equal(404);
        expect(continued.param).to.equal('previous_response_id');
      }
    });
  });
});
