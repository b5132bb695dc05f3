import { expect } from 'chai';
import { UpstreamError } from '../../../../gateway/openai/errors.ts';
import type { OpenAIChatChunk } from '../../../../gateway/openai/types.ts';
import {
  type GigaChatStreamContext,
  translateGigaChatStream,
} from '../../../../gateway/providers/gigachat/translate-stream.ts';
import type { GigaChatChunk } from '../../../../gateway/providers/gigachat/wire-types.ts';
import { gigaChatChunks, recordedStreamChunks } from '../../../helpers/cassettes.ts';

const RECORDED_CREATED = 1771250907;
const recordedUsage = {
  prompt_tokens: 17,
  completion_tokens: 10,
  total_tokens: 27,
  prompt_tokens_details: { cached_tokens: 2 },
};

function context(overrides: Partial<GigaChatStreamContext> = {}): GigaChatStreamContext {
  return { id: 'chatcmpl-stream1', model: 'GigaChat-2-Max', includeUsage: false, stop: [], ...overrides };
}

/** An upstream stream over `chunks` that records how far it was read and whether it was closed. */
function upstream(chunks: GigaChatChunk[]) {
  const state = { pulled: 0, exhausted: false, closed: false };
  async function* generate(): AsyncGenerator<GigaChatChunk> {
    try {
      for (const chunk of chunks) {
        state.pulled++;
        yield chunk;
      }
      state.exhausted = true;
    } finally {
      state.closed = true;
    }
  }
  return { chunks: generate(), state };
}

async function collect(chunks: AsyncIterable<OpenAIChatChunk>): Promise<OpenAIChatChunk[]> {
  const output: OpenAIChatChunk[] = [];
  for await (const chunk of chunks) output.push(chunk);
  return output;
}

async function translate(chunks: GigaChatChunk[], overrides: Partial<GigaChatStreamContext> = {}) {
  return collect(translateGigaChatStream(upstream(chunks).chunks, context(overrides)));
}

const deltas = (chunks: OpenAIChatChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta);
const text = (chunks: OpenAIChatChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
const finishReasons = (chunks: OpenAIChatChunk[]) => chunks.map((chunk) => chunk.choices[0]?.finish_reason);

/** What the stream returns once read to its end. */
async function returned(stream: AsyncGenerator<OpenAIChatChunk, unknown>): Promise<unknown> {
  for (let step = await stream.next(); ; step = await stream.next()) if (step.done === true) return step.value;
}

describe('translateGigaChatStream', () => {
  describe('its return value', () => {
    for (const includeUsage of [false, true]) {
      it(`is the recorded usage, with includeUsage ${includeUsage}`, async () => {
        const stream = translateGigaChatStream(
          upstream(recordedStreamChunks('chat-stream')).chunks,
          context({ includeUsage }),
        );
        expect(await returned(stream)).to.deep.equal(recordedUsage);
      });
    }

    it('is undefined when a stop sequence ended the stream early without includeUsage', async () => {
      const stream = translateGigaChatStream(
        upstream(recordedStreamChunks('chat-stream')).chunks,
        context({ stop: ['2'] }),
      );
      expect(await returned(stream)).to.equal(undefined);
    });
  });

  describe('the recorded chat-stream', () => {
    it('becomes role, content and finish chunks with one id', async () => {
      const chunks = await translate(recordedStreamChunks('chat-stream'));
      expect(deltas(chunks)).to.deep.equal([{ role: 'assistant', content: '' }, { content: '$1\\, 2\\, 3$' }, {}]);
      expect(finishReasons(chunks)).to.deep.equal([null, null, 'stop']);
      for (const chunk of chunks) {
        expect(chunk).to.include({
          id: 'chatcmpl-stream1',
          object: 'chat.completion.chunk',
          model: 'GigaChat-2-Max',
          created: RECORDED_CREATED,
        });
        expect(chunk.choices).to.have.length(1);
        expect(chunk.choices[0]).to.include({ index: 0, logprobs: null });
        expect(chunk).to.not.have.property('usage');
      }
    });

    it('with includeUsage: usage null on every chunk, then a choices-less usage chunk', async () => {
      const chunks = await translate(recordedStreamChunks('chat-stream'), { includeUsage: true });
      expect(chunks).to.have.length(4);
      for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).to.equal(null);
      expect(finishReasons(chunks.slice(0, -1))).to.deep.equal([null, null, 'stop']);
      expect(chunks.at(-1)).to.deep.equal({
        id: 'chatcmpl-stream1',
        object: 'chat.completion.chunk',
        created: RECORDED_CREATED,
        model: 'GigaChat-2-Max',
        choices: [],
        usage: recordedUsage,
      });
    });
  });

  it('streams several content deltas in order', async () => {
    const chunks = await translate(gigaChatChunks(['Раз', ', два', ', три']));
    expect(deltas(chunks)).to.deep.equal([
      { role: 'assistant', content: '' },
      { content: 'Раз' },
      { content: ', два' },
      { content: ', три' },
      {},
    ]);
  });

  it('maps length and blacklist finish reasons', async () => {
    expect(finishReasons(await translate(gigaChatChunks(['a'], 'length'))).at(-1)).to.equal('length');
    expect(finishReasons(await translate(gigaChatChunks(['a'], 'blacklist'))).at(-1)).to.equal('content_filter');
  });

  it('passes reasoning_content deltas on', async () => {
    const chunks = gigaChatChunks(['42']);
    chunks[0]!.choices[0]!.delta.reasoning_content = 'Думаю…';
    expect(deltas(await translate(chunks))).to.deep.include({ reasoning_content: 'Думаю…' });
  });

  describe('a streamed function call', () => {
    // No real recording of a streamed function call exists, so these chunks clone the recorded
    // chat-stream shape and carry the fields of the recorded chat-function-call response instead.
    const functionCall = { name: 'weather_forecast', arguments: { location: 'Манжерок', num_days: 10 } };
    const stateId = '0199e210-2f13-744c-8fe5-c9a19fe27db7';

    function functionCallChunks(split: boolean): GigaChatChunk[] {
      const [, last] = recordedStreamChunks('chat-stream');
      const call = structuredClone(last);
      call.choices[0].delta = {
        content: '',
        role: 'assistant',
        function_call: functionCall,
        functions_state_id: stateId,
      };
      call.choices[0].finish_reason = 'function_call';
      if (!split) return [call];
      const finish = structuredClone(last);
      finish.choices[0].finish_reason = 'function_call';
      delete call.choices[0].finish_reason;
      delete call.usage;
      return [call, finish];
    }

    for (const split of [false, true]) {
      it(`becomes one tool_calls delta and finish tool_calls (finish reason ${split ? 'in a later' : 'in the same'} chunk)`, async () => {
        const chunks = await translate(functionCallChunks(split));
        expect(deltas(chunks)).to.deep.equal([
          { role: 'assistant', content: '' },
          {
            tool_calls: [
              {
                index: 0,
                id: `call_${stateId}`,
                type: 'function',
                function: { name: 'weather_forecast', arguments: '{"location":"Манжерок","num_days":10}' },
              },
            ],
          },
          {},
        ]);
        expect(finishReasons(chunks)).to.deep.equal([null, null, 'tool_calls']);
      });
    }

    it('makes up a call_ id when there is no functions_state_id', async () => {
      const chunks = functionCallChunks(false);
      delete chunks[0]!.choices[0]!.delta.functions_state_id;
      const toolCall = (await translate(chunks))[1]?.choices[0]?.delta.tool_calls?.[0];
      expect(toolCall?.id).to.match(/^call_[0-9a-f]{24}$/);
    });
  });

  describe('upstream failures', () => {
    it('a stream that ends without finish_reason throws UpstreamError', async () => {
      const [first] = recordedStreamChunks('chat-stream');
      const seen: OpenAIChatChunk[] = [];
      let caught: unknown;
      try {
        for await (const chunk of translateGigaChatStream(upstream([first]).chunks, context())) seen.push(chunk);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(UpstreamError);
      expect((caught as UpstreamError).status).to.equal(502);
      expect(text(seen)).to.equal('$1\\, 2\\, 3$');
    });

    it('an empty stream throws UpstreamError', async () => {
      let caught: unknown;
      try {
        await translate([]);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(UpstreamError);
    });

    it("finish_reason 'error' throws UpstreamError", async () => {
      let caught: unknown;
      try {
        await translate(gigaChatChunks(['a'], 'error'));
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(UpstreamError);
      expect((caught as UpstreamError).code).to.equal('upstream_invalid_function_call');
    });
  });

  describe('stop sequences', () => {
    for (const [label, pieces] of [
      ['a stop sequence that arrives after text split over deltas', ['Hel', 'lo STOP here', ' and more']],
      ['a stop sequence split across two deltas', ['Hello ST', 'OP here', ' and more']],
    ] as const) {
      it(`${label}: text before it only, finish stop`, async () => {
        const chunks = await translate(gigaChatChunks([...pieces], 'length'), { stop: ['STOP'] });
        expect(text(chunks)).to.equal('Hello ');
        expect(finishReasons(chunks).filter((reason) => reason !== null)).to.deep.equal(['stop']);
        expect(finishReasons(chunks).at(-1)).to.equal('stop');
        expect(chunks.at(-1)?.choices[0]?.delta).to.deep.equal({});
      });
    }

    it('without includeUsage, stops reading the upstream and closes it', async () => {
      const source = upstream(gigaChatChunks(['Hel', 'lo STOP here', ' and more']));
      const chunks = await collect(translateGigaChatStream(source.chunks, context({ stop: ['STOP'] })));
      expect(text(chunks)).to.equal('Hello ');
      expect(source.state).to.deep.equal({ pulled: 2, exhausted: false, closed: true });
    });

    it('with includeUsage, reads on to the end for the usage but sends no more text', async () => {
      const source = upstream(gigaChatChunks(['Hello ST', 'OP here', ' and more']));
      const chunks = await collect(
        translateGigaChatStream(source.chunks, context({ stop: ['STOP'], includeUsage: true })),
      );
      expect(source.state).to.deep.equal({ pulled: 4, exhausted: true, closed: true });
      expect(text(chunks)).to.equal('Hello ');
      expect(finishReasons(chunks.slice(0, -1)).filter((reason) => reason !== null)).to.deep.equal(['stop']);
      expect(chunks.at(-1)?.choices).to.deep.equal([]);
      expect(chunks.at(-1)?.usage).to.deep.equal(recordedUsage);
    });

    it('releases a held-back tail that turned out not to be a stop sequence', async () => {
      const chunks = await translate(gigaChatChunks(['Hello ST', 'ill here', ' ST']), { stop: ['STOP'] });
      expect(text(chunks)).to.equal('Hello STill here ST');
      expect(finishReasons(chunks).at(-1)).to.equal('stop');
      // The final "ST" was held back until the stream ended, then sent before the finish chunk.
      expect(deltas(chunks).slice(-3)).to.deep.equal([{ content: ' ' }, { content: 'ST' }, {}]);
    });
  });
});
