import { expect } from 'chai';
import OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GigaChatMock, sendJson } from '../helpers/gigachat-mock.ts';

/** EmbeddingsGigaR's vector size. */
const DIMENSIONS = 2560;
/** OpenAI's documented maximum of inputs per request. */
const MAX_INPUTS = 2048;
const TOKENS_PER_TEXT = 3;

/**
 * A vector as GigaChat sends them (test/fixtures/gigachat/embeddings.json: halves of float16 such
 * as 0.53857421875), 2,560 long, whose first value says which text it belongs to.
 */
function vectorFor(text: string): number[] {
  const position = Number(text.slice('text-'.length));
  return Array.from({ length: DIMENSIONS }, (_, dimension) =>
    dimension === 0 ? position / 4096 : (((position * 7 + dimension) % 2048) - 1024) / 1024 + 0.0009765625,
  );
}

describe('e2e: embeddings at the documented maxima (2,048 inputs of EmbeddingsGigaR)', function () {
  this.timeout(60_000);
  let mock: GigaChatMock;
  let gateway: TestGateway;
  /** The inputs of each upstream /embeddings call, in order. */
  let batches: string[][];

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    batches = [];
    // GigaChat's wire shape: per-item usage, no top-level usage; items here come back in reverse order.
    mock.embeddings = (body, response) => {
      const input = body.input as string[];
      batches.push(input);
      const data = input.map((text, index) => ({
        object: 'embedding',
        embedding: vectorFor(text),
        index,
        usage: { prompt_tokens: TOKENS_PER_TEXT },
      }));
      sendJson(response, 200, { object: 'list', model: body.model, data: data.reverse() });
    };
    gateway = await startTestGateway(mock.env());
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  const inputs = Array.from({ length: MAX_INPUTS }, (_, index) => `text-${index}`);

  it('answers every vector in input order, with the usage of every batch, through the openai SDK', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'no-key-needed', maxRetries: 0 });
    const answer = await client.embeddings.create({ model: 'EmbeddingsGigaR', input: inputs });
    expect(answer.data).to.have.length(MAX_INPUTS);
    for (const [position, item] of answer.data.entries()) {
      expect(item.index).to.equal(position);
      expect(item.embedding).to.have.length(DIMENSIONS);
      expect(item.embedding[0]).to.equal(position / 4096);
    }
    expect(answer.data[17]?.embedding).to.deep.equal(vectorFor('text-17'));
    expect(answer.usage).to.deep.equal({
      prompt_tokens: MAX_INPUTS * TOKENS_PER_TEXT,
      total_tokens: MAX_INPUTS * TOKENS_PER_TEXT,
    });
    // Several upstream calls, none larger than GigaChat's own integration sends, the inputs in order.
    expect(batches.length).to.be.greaterThan(1);
    for (const batch of batches) expect(batch.length).to.be.at.most(90);
    expect(batches.flat()).to.deep.equal(inputs);
  });

  it('fails the whole request when one batch fails, and sends no batch after it', async () => {
    const answer = mock.embeddings;
    mock.embeddings = (body, response, request) => {
      if (batches.length === 3) {
        batches.push(body.input);
        return sendJson(response, 503, { status: 503, message: 'Service Unavailable' });
      }
      return answer(body, response, request);
    };
    const error = await gateway.client.embeddings.create({ model: 'EmbeddingsGigaR', input: inputs }).then(
      () => expect.fail('expected the request to fail'),
      (failure: unknown) => failure,
    );
    expect(error).to.be.instanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).to.be.within(502, 503);
    expect(batches).to.have.length(4);
  });
});
