import { expect } from 'chai';
import type OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import {
  GigaChatMock,
  gigaChatChunks,
  gigaChatCompletion,
  sendJson,
  writeGigaChatStream,
} from '../helpers/gigachat-mock.ts';

describe('e2e: OpenAI SDK → gateway → GigaChat', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;
  let client: OpenAI;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway(mock.env());
    client = gateway.client;
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  it('creates a completion', async () => {
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Привет!'));
    const completion = await client.chat.completions.create({
      model: 'GigaChat-2-Max',
      messages: [{ role: 'user', content: 'Скажи привет' }],
    });
    expect(completion.choices[0]?.message.content).to.equal('Привет!');
    expect(completion.model).to.equal('GigaChat-2-Max');
  });

  it('streams with include_usage', async () => {
    mock.chat = (_body, response) =>
      writeGigaChatStream(response, gigaChatChunks(['Раз', ', два', ', три']), { delayMs: 5 });
    const stream = await client.chat.completions.create({
      model: 'GigaChat',
      messages: [{ role: 'user', content: 'Считай' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).to.equal('Раз, два, три');
    expect(chunks.at(-1)?.usage?.total_tokens).to.equal(27);
  });
});
