import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import OpenAI from 'openai';
import { loadConfig } from '../../gateway/config.ts';
import { TEST_CLIENT_SECRET } from '../helpers/b24/fake-oauth.ts';
import { B24Harness } from '../helpers/b24/harness.ts';
import { gigaChatChunks, gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GeminiMock, geminiFixture, TEST_GEMINI_KEY } from '../helpers/gemini-mock.ts';
import { GigaChatMock, sendJson, TEST_CREDENTIALS, writeGigaChatStream } from '../helpers/gigachat-mock.ts';

// Issue 7, point 5: JSON lines with the request id on every line written during a request, never
// a key, token or secret, and prompt text only with LOG_PROMPTS=1. Real flows, real SDK, real mocks.

const CLIENT_KEY = 'sk-logging-test-client-key-7f3a9c';
const WRONG_KEY = 'sk-logging-test-wrong-key-1b2e4d';
const CLIENT_SECRET = 'test-client-secret'; // inside TEST_CREDENTIALS (Base64 of client_id:client_secret)

type Line = Record<string, unknown> & { msg?: string; requestId?: string };

/** One request as a test flow: it sends its own `x-request-id`, and knows the user text it carried. */
interface Flow {
  id: string;
  /** Text that must never be logged unless LOG_PROMPTS=1 (then once, in the prompt line). */
  prompt: string;
  /** Model output, never logged. */
  answer?: string;
  run(client: OpenAI, headers: Record<string, string>): Promise<unknown>;
}

describe('logs (issue 7, point 5)', () => {
  let gigachat: GigaChatMock;
  let gemini: GeminiMock;
  let gateway: TestGateway;
  /** Every GigaChat access token the mock issued, gathered before any is revoked. */
  const tokens = new Set<string>();

  beforeEach(async () => {
    gigachat = await GigaChatMock.start();
    gemini = await GeminiMock.start();
    tokens.clear();
  });
  afterEach(async () => {
    await gateway.close();
    await gigachat.close();
    await gemini.close();
  });

  async function start(env: Record<string, string> = {}): Promise<void> {
    gateway = await startTestGateway({
      ...gigachat.env(),
      ...gemini.env(),
      GATEWAY_API_KEYS: `team:${CLIENT_KEY}`,
      UPSTREAM_RETRIES: '0',
      ...env,
    });
  }

  const parsed = (from = 0): Line[] => gateway.logs.slice(from).map((line) => JSON.parse(line) as Line);

  /** Runs a flow and returns the lines written from its start until its access-log line. */
  async function linesOf(flow: Flow): Promise<Line[]> {
    const from = gateway.logs.length;
    await flow.run(gateway.client, { 'x-request-id': flow.id }).catch(() => {}); // failures are part of the flows
    await gateway.waitForLog((text) => {
      const line = JSON.parse(text) as Line;
      return line.requestId === flow.id && 'status' in line;
    }, from);
    return parsed(from);
  }

  const user = (content: string) => [{ role: 'user' as const, content }];

  /** A chat completion asking `prompt` of `model`, as JSON or read as a stream to its end. */
  const chatFlow = (id: string, model: string, prompt: string, answer?: string, stream = false): Flow => ({
    id,
    prompt,
    ...(answer === undefined ? {} : { answer }),
    async run(client, headers) {
      if (!stream) return client.chat.completions.create({ model, messages: user(prompt) }, { headers });
      const chunks = await client.chat.completions.create({ model, messages: user(prompt), stream: true }, { headers });
      for await (const _chunk of chunks) {
        // read to the end (a cut stream ends with the gateway's error event)
      }
    },
  });

  const flows: Flow[] = [
    chatFlow('flow-chat-json', 'GigaChat-2', 'PROMPT-json: my salary is 123456', 'ANSWER-json: noted your salary'),
    chatFlow('flow-chat-stream', 'GigaChat-2', 'PROMPT-stream: the launch code is 0000', 'ANSWER-stream-piece', true),
    {
      id: 'flow-embeddings',
      prompt: 'PROMPT-embed: patient record 42',
      run: (client, headers) =>
        client.embeddings.create({ model: 'Embeddings', input: 'PROMPT-embed: patient record 42' }, { headers }),
    },
    {
      id: 'flow-wrong-key',
      prompt: 'PROMPT-wrong-key: hello',
      run: (client, headers) =>
        new OpenAI({ baseURL: client.baseURL, apiKey: WRONG_KEY, maxRetries: 0 }).chat.completions.create(
          { model: 'GigaChat-2', messages: user('PROMPT-wrong-key: hello') },
          { headers },
        ),
    },
    {
      id: 'flow-gigachat-401',
      prompt: 'PROMPT-401: after the token expired',
      answer: 'ANSWER-401: fresh token worked',
      run(client, headers) {
        for (const token of gigachat.issued) tokens.add(token);
        gigachat.revokeTokens(); // GigaChat answers 401; the gateway fetches a new token and tries again
        return client.chat.completions.create(
          { model: 'GigaChat-2', messages: user('PROMPT-401: after the token expired') },
          { headers },
        );
      },
    },
    chatFlow('flow-gemini', 'gemini-2.5-flash', 'PROMPT-gemini: my passport number', 'ANSWER-gemini: passport noted'),
    chatFlow('flow-upstream-500', 'GigaChat-Max', 'PROMPT-500: this one fails upstream'),
    chatFlow(
      'flow-stream-cut-upstream',
      'GigaChat-Pro',
      'PROMPT-cut: the stream breaks',
      'ANSWER-cut-before-reset',
      true,
    ),
    {
      id: 'flow-analyze-text',
      prompt: 'PROMPT-1c: invoice for Romashka LLC',
      answer: 'ANSWER-json: noted your salary',
      run: (client, headers) =>
        fetch(`${client.baseURL.replace(/\/v1$/, '')}/analyze/text`, {
          method: 'POST',
          headers: { ...headers, authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'PROMPT-1c: invoice for Romashka LLC', model: 'GigaChat-2' }),
        }),
    },
  ];

  /** Scripts the upstreams for the flows above. */
  function scriptUpstreams(): void {
    gigachat.chat = (body, response) => {
      const text = JSON.stringify(body.messages);
      if (body.model === 'GigaChat-Max') return sendJson(response, 500, { status: 500, message: `failed on ${text}` });
      if (body.model === 'GigaChat-Pro') {
        const [first] = gigaChatChunks(['ANSWER-cut-before-reset']);
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(`data: ${JSON.stringify(first)}\n\n`);
        setImmediate(() => response.destroy());
        return;
      }
      if (body.stream === true) {
        return writeGigaChatStream(response, gigaChatChunks(['ANSWER-stream-piece', ' and more']));
      }
      const answer = text.includes('PROMPT-401') ? 'ANSWER-401: fresh token worked' : 'ANSWER-json: noted your salary';
      return sendJson(response, 200, gigaChatCompletion(answer));
    };
    gemini.generate = (_body, response) => {
      const answer = structuredClone(geminiFixture('generate-text'));
      answer.candidates[0].content.parts[0].text = 'ANSWER-gemini: passport noted';
      sendJson(response, 200, answer);
    };
  }

  async function runFlows(): Promise<Map<string, Line[]>> {
    scriptUpstreams();
    const seen = new Map<string, Line[]>();
    for (const flow of flows) seen.set(flow.id, await linesOf(flow));
    for (const token of gigachat.issued) tokens.add(token);
    return seen;
  }

  function expectNoSecrets(): void {
    const text = gateway.logs.join('');
    const secrets = [CLIENT_KEY, WRONG_KEY, TEST_CREDENTIALS, CLIENT_SECRET, TEST_GEMINI_KEY, ...tokens];
    expect(tokens.size, 'the mock issued tokens').to.be.greaterThan(1);
    for (const secret of secrets) expect(text, 'a secret in the log').not.to.contain(secret);
    for (const flow of flows) {
      if (flow.answer !== undefined) expect(text, 'an answer in the log').not.to.contain(flow.answer);
    }
  }

  it('off by default: no secret, prompt or answer in any line, and every line of a request has its id', async () => {
    await start();
    const seen = await runFlows();
    expectNoSecrets();
    const text = gateway.logs.join('');
    for (const flow of flows) expect(text, `${flow.id}'s prompt`).not.to.contain(flow.prompt);
    expect(text).not.to.contain('PROMPT-');

    for (const [id, lines] of seen) {
      expect(lines.length, id).to.be.greaterThan(0);
      for (const line of lines) expect(line.requestId, `${id}: ${JSON.stringify(line)}`).to.equal(id);
      // The id comes from the request's context once, not from each caller as well.
      for (const raw of gateway.logs.filter((entry) => entry.includes(`"${id}"`))) {
        expect(raw.split('"requestId"').length - 1, raw).to.equal(1);
      }
    }
    // Lines from deep inside a request carry its id too: the provider's token fetch, the failed stream.
    const tokenLines = [...seen.values()].flat().filter((line) => line.msg === 'gigachat: obtained a new access token');
    expect(tokenLines.map((line) => line.requestId)).to.deep.equal(['flow-chat-json', 'flow-gigachat-401']);
    const streamFailure = seen
      .get('flow-stream-cut-upstream')
      ?.find((line) => line.msg === 'stream failed after it began');
    expect(streamFailure?.requestId).to.equal('flow-stream-cut-upstream');
    // And nothing outside a request claims one.
    const listening = parsed().find((line) => String(line.msg).startsWith('listening on'));
    expect(listening).not.to.have.property('requestId');
  });

  it('LOG_PROMPTS=1: each prompt appears once, in its request\'s "prompt" line; still no secret or answer', async () => {
    await start({ LOG_PROMPTS: '1' });
    const seen = await runFlows();
    expectNoSecrets();
    const text = gateway.logs.join('');
    const validated = flows.filter((flow) => flow.id !== 'flow-wrong-key'); // refused before its body is read
    for (const flow of validated) {
      const lines = gateway.logs.filter((line) => line.includes(flow.prompt));
      expect(lines, flow.id).to.have.length(1);
      const line = JSON.parse(lines[0] as string) as Line;
      expect(line).to.include({ msg: 'prompt', requestId: flow.id, level: 'info' });
      expect(seen.get(flow.id)).to.deep.include(line);
    }
    expect(text).not.to.contain('PROMPT-wrong-key');
    const chat = parsed().find((line) => line.msg === 'prompt' && line.requestId === 'flow-chat-json');
    expect(chat?.prompt).to.deep.equal({ model: 'GigaChat-2', messages: user('PROMPT-json: my salary is 123456') });
    const analyze = parsed().find((line) => line.msg === 'prompt' && line.requestId === 'flow-analyze-text');
    expect(analyze?.prompt).to.deep.include({ text: 'PROMPT-1c: invoice for Romashka LLC', model: 'GigaChat-2' });
  });

  it('LOG_PROMPTS=1 shortens inline images to their type and size', async () => {
    await start({ LOG_PROMPTS: '1' });
    scriptUpstreams();
    const image = `data:image/png;base64,${Buffer.alloc(3000, 7).toString('base64')}`;
    await gateway.client.chat.completions
      .create(
        {
          model: 'GigaChat-2',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'PROMPT-image: what is this?' },
                { type: 'image_url', image_url: { url: image } },
              ],
            },
          ],
        },
        { headers: { 'x-request-id': 'flow-image' } },
      )
      .catch(() => {}); // GigaChat takes no inline images; the prompt is logged before routing
    const line = parsed().find((entry) => entry.msg === 'prompt' && entry.requestId === 'flow-image');
    expect(JSON.stringify(line)).to.contain('PROMPT-image: what is this?');
    expect(JSON.stringify(line)).to.contain('data:image/png;base64,[4000 characters]');
    expect(gateway.logs.join('')).not.to.contain(image.slice(22, 80));
  });
});

describe('LOG_PROMPTS (gateway/config.ts)', () => {
  it('takes 1 or 0 only, and names itself otherwise', () => {
    expect(loadConfig({}).logPrompts).to.equal(false);
    expect(loadConfig({ LOG_PROMPTS: '0' }).logPrompts).to.equal(false);
    expect(loadConfig({ LOG_PROMPTS: '1' }).logPrompts).to.equal(true);
    expect(() => loadConfig({ LOG_PROMPTS: 'yes' })).to.throw(
      /^LOG_PROMPTS: expected 1 \(on\) or 0 \(off\), got "yes"$/,
    );
  });
});

describe('logs of the Bitrix24 app (issue 7, point 5)', function () {
  this.timeout(60_000); // a gateway process starts, which takes seconds on a busy machine
  let harness: B24Harness | undefined;

  beforeEach(async () => {
    harness = await B24Harness.start();
  });
  afterEach(async () => {
    await harness?.close(); // undefined when it could not start, which is the failure to see
    harness = undefined;
  });

  it('requests log under their id, a job under its own id (and its model call under b24-job:<id>), and no portal secret', async () => {
    if (harness === undefined) throw new Error('the Bitrix24 harness did not start');
    const portal = await harness.installedPortal();
    const engineUrl = harness.engineUrl(portal);
    const answer = await portal.askEngine(engineUrl);
    expect(answer.status).to.equal(202);
    await portal.waitForCallback(answer.hash);
    await harness.gateway.waitForLog(new RegExp(`"job":"${answer.hash}".*callback delivered`));
    const entries = harness.gateway.entries();
    const requestOf = (line: Record<string, any> | undefined) =>
      entries.find((entry) => 'status' in entry && 'path' in entry && entry.requestId === line?.requestId);

    const saved = entries.find(
      (entry) => entry.msg === 'Bitrix24: portal installed by an administrator, engines in place',
    );
    expect(requestOf(saved)).to.include({ method: 'POST', path: '/b24/install' });
    const accepted = entries.find((entry) => entry.msg === 'Bitrix24: job accepted' && entry.job === answer.hash);
    expect(requestOf(accepted)).to.include({ method: 'POST', status: 202 });
    expect(requestOf(accepted)?.path).to.match(/^\/b24\/engine\/[^/]+\.\[redacted\]\//);

    // The worker runs the job outside the request that accepted it.
    const jobLines = entries.filter((entry) => entry.job === answer.hash && entry !== accepted);
    expect(jobLines.map((entry) => entry.msg)).to.include('Bitrix24: callback delivered');
    for (const line of jobLines) expect(line, JSON.stringify(line)).not.to.have.property('requestId');
    const call = entries.find((entry) => entry.requestId === `b24-job:${answer.hash}` && 'status' in entry);
    expect(call).to.include({ method: 'POST', path: '/v1/chat/completions', status: 200 });

    const text = harness.gateway.log();
    const portalKeyMac = decodeURIComponent(new URL(engineUrl).pathname.split('/')[3] ?? '')
      .split('.')
      .pop();
    const sealedSigningKey = (await harness.rawStored<string>('signing-key')) as string;
    const secrets = [
      portalKeyMac,
      readFileSync(`${harness.storePath}.secret-key`, 'utf8').trim(), // the key of secrets at rest
      harness.secrets().open(sealedSigningKey, 'b24 signing-key'),
      TEST_CLIENT_SECRET,
      TEST_CREDENTIALS,
      ...portal.accessTokens.keys(),
      ...harness.oauth.grants.keys(),
      ...harness.gigachat.issued,
    ];
    expect(secrets.length).to.be.greaterThan(5);
    for (const secret of secrets) expect(text, 'a secret in the log').not.to.contain(secret);
    expect(text).not.to.contain('Напиши приветствие новому сотруднику'); // the portal's prompt
  });
});
