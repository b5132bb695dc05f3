import { expect } from 'chai';
import { type GatewayError, UpstreamError } from '../../../../gateway/openai/errors.ts';
import type { OpenAIChatChunk } from '../../../../gateway/openai/types.ts';
import { decodeGeminiToolCallId } from '../../../../gateway/providers/gemini/tool-call-id.ts';
import {
  type GeminiStreamContext,
  translateGeminiStream,
} from '../../../../gateway/providers/gemini/translate-stream.ts';
import type { GeminiResponse } from '../../../../gateway/providers/gemini/wire-types.ts';
import { geminiStreamFixture } from '../../../helpers/gemini-mock.ts';

function context(overrides: Partial<GeminiStreamContext> = {}): GeminiStreamContext {
  return { model: 'gemini-3-pro-preview', includeUsage: false, fallbackId: 'chatcmpl-fallback', ...overrides };
}

async function* replay(events: unknown[]): AsyncGenerator<GeminiResponse> {
  for (const event of events) yield event as GeminiResponse;
}

async function translate(events: unknown[], overrides: Partial<GeminiStreamContext> = {}) {
  const chunks: OpenAIChatChunk[] = [];
  for await (const chunk of translateGeminiStream(replay(events), context(overrides))) chunks.push(chunk);
  return chunks;
}

/** The chunks produced before the stream failed, and the failure. */
async function translateUntilFailure(events: unknown[], overrides: Partial<GeminiStreamContext> = {}) {
  const chunks: OpenAIChatChunk[] = [];
  try {
    for await (const chunk of translateGeminiStream(replay(events), context(overrides))) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  throw new Error('expected the stream to fail');
}

const deltas = (chunks: OpenAIChatChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta);
const finishReasons = (chunks: OpenAIChatChunk[]) => chunks.map((chunk) => chunk.choices[0]?.finish_reason);
const text = (chunks: OpenAIChatChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');

/** Events of a recorded stream, copied so a test can change them. */
const recorded = (name: string) => structuredClone(geminiStreamFixture(name));

describe('translateGeminiStream', () => {
  for (const includeUsage of [false, true]) {
    it(`returns the last usage (9 + 23 + 185 = 217 tokens), with includeUsage ${includeUsage}`, async () => {
      const stream = translateGeminiStream(replay(recorded('stream-text')), context({ includeUsage }));
      let step = await stream.next();
      while (step.done !== true) step = await stream.next();
      expect(step.value?.total_tokens).to.equal(217);
    });
  }

  describe('the recorded text stream (stream-text.chunks.txt)', () => {
    it('becomes the role, the text deltas and the finish, under one id', async () => {
      const chunks = await translate(recorded('stream-text'));
      expect(deltas(chunks)).to.deep.equal([
        { role: 'assistant', content: '' },
        { content: 'There are **3**' },
        { content: ' "r"s in strawberry.\n\nst**r**awbe**rr**y' },
        // The last event's empty text part (it only carries a signature) sends no delta.
        {},
      ]);
      expect(finishReasons(chunks)).to.deep.equal([null, null, null, 'stop']);
      for (const chunk of chunks) {
        expect(chunk).to.include({
          id: 'chatcmpl-bH6LaZW8Fp_3nsEPqtaSwQ4',
          object: 'chat.completion.chunk',
          model: 'gemini-3-pro-preview',
        });
        expect(chunk.created).to.equal(chunks[0]?.created);
        expect(chunk.choices[0]?.index).to.equal(0);
        expect(chunk.choices[0]?.logprobs).to.equal(null);
        expect(chunk).to.not.have.property('usage');
      }
    });

    it('with include_usage: usage null on every chunk, then one last chunk with the final usage', async () => {
      const chunks = await translate(recorded('stream-text'), { includeUsage: true });
      const last = chunks.at(-1);
      expect(last?.choices).to.deep.equal([]);
      // Gemini's usage is cumulative: the last event's counts (9 + 23 + 185 = 217).
      expect(last?.usage).to.deep.equal({
        prompt_tokens: 9,
        completion_tokens: 208,
        total_tokens: 217,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 185 },
      });
      expect(last?.id).to.equal('chatcmpl-bH6LaZW8Fp_3nsEPqtaSwQ4');
      for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).to.equal(null);
      expect(chunks).to.have.length(5);
    });

    it('drops thought parts', async () => {
      // Composed from the recording: a thought part before the first text.
      const events = recorded('stream-text');
      events[0].candidates[0].content.parts.unshift({ text: 'Counting r…', thought: true });
      const chunks = await translate(events);
      expect(text(chunks)).to.equal('There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y');
    });

    it('uses the fallback id when Gemini sends no responseId', async () => {
      const events = recorded('stream-text');
      for (const event of events) delete event.responseId;
      const chunks = await translate(events, { includeUsage: true });
      for (const chunk of chunks) expect(chunk.id).to.equal('chatcmpl-fallback');
    });
  });

  describe('tool calls', () => {
    it('the recorded Gemini 3 call (stream-tool-call-gemini3) → one complete tool_calls delta at index 0, then tool_calls', async () => {
      const events = recorded('stream-tool-call-gemini3');
      const chunks = await translate(events);
      expect(chunks).to.have.length(3);
      expect(deltas(chunks)[0]).to.deep.equal({ role: 'assistant', content: '' });
      const toolCalls = chunks[1]?.choices[0]?.delta.tool_calls;
      expect(toolCalls).to.have.length(1);
      const call = toolCalls![0]!;
      expect(call.index).to.equal(0);
      expect(call.type).to.equal('function');
      expect(call.function).to.deep.equal({ name: 'weather', arguments: '{"location":"San Francisco"}' });
      expect(decodeGeminiToolCallId(call.id!)).to.deep.equal({
        signature: events[0].candidates[0].content.parts[0].thoughtSignature,
      });
      // Gemini says STOP; OpenAI tool loops need tool_calls.
      expect(events[1].candidates[0].finishReason).to.equal('STOP');
      expect(deltas(chunks)[2]).to.deep.equal({});
      expect(finishReasons(chunks)).to.deep.equal([null, null, 'tool_calls']);
    });

    it("the recorded call with Gemini's id (stream-tool-call-with-id) → a gemini_ id", async () => {
      const chunks = await translate(recorded('stream-tool-call-with-id'));
      const call = chunks[1]?.choices[0]?.delta.tool_calls?.[0];
      expect(call?.id).to.equal('gemini_call_345658__thought__<redacted>');
      expect(call?.function?.name).to.equal('search');
      expect(JSON.parse(call?.function?.arguments ?? '')).to.deep.equal({
        condition: { or: [{ term: 'x' }, { term: 'y' }] },
      });
      expect(finishReasons(chunks).at(-1)).to.equal('tool_calls');
    });

    it('counts the tool-call index over the whole stream, not per event', async () => {
      // Composed: the two recorded call events in one stream, then the recorded finish event.
      const first = recorded('stream-tool-call-gemini3');
      const second = recorded('stream-tool-call-with-id');
      const chunks = await translate([first[0], second[0], first[1]]);
      const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
      expect(calls.map((call) => [call.index, call.function?.name])).to.deep.equal([
        [0, 'weather'],
        [1, 'search'],
      ]);
      expect(new Set(calls.map((call) => call.id)).size).to.equal(2);
      expect(finishReasons(chunks).at(-1)).to.equal('tool_calls');
    });

    it('parallel calls in one event get consecutive indexes', async () => {
      // Composed: both recorded call parts in one event.
      const event = recorded('stream-tool-call-gemini3')[0];
      event.candidates[0].content.parts.push(recorded('stream-tool-call-with-id')[0].candidates[0].content.parts[0]);
      const chunks = await translate([event, recorded('stream-tool-call-gemini3')[1]]);
      const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
      expect(calls.map((call) => call.index)).to.deep.equal([0, 1]);
    });

    it('text before a call is streamed as content', async () => {
      // Composed: the first recorded text event, then the recorded call stream.
      const chunks = await translate([recorded('stream-text')[0], ...recorded('stream-tool-call-gemini3')]);
      expect(text(chunks)).to.equal('There are **3**');
      expect(finishReasons(chunks).at(-1)).to.equal('tool_calls');
      // One role chunk only.
      expect(deltas(chunks).filter((delta) => delta?.role !== undefined)).to.have.length(1);
    });
  });

  describe('finish reasons', () => {
    /** The recorded text stream with its last event finishing for `reason`. */
    function finishingWith(reason: string) {
      const events = recorded('stream-text');
      events[2].candidates[0].finishReason = reason;
      return events;
    }

    it('MAX_TOKENS → length', async () => {
      expect(finishReasons(await translate(finishingWith('MAX_TOKENS'))).at(-1)).to.equal('length');
    });

    it('SAFETY → content_filter', async () => {
      expect(finishReasons(await translate(finishingWith('SAFETY'))).at(-1)).to.equal('content_filter');
    });

    it('MALFORMED_FUNCTION_CALL → the stream fails with 502 after what was sent', async () => {
      const { chunks, error } = await translateUntilFailure(finishingWith('MALFORMED_FUNCTION_CALL'));
      expect(error).to.be.instanceOf(UpstreamError);
      expect(error).to.include({ status: 502, code: 'upstream_invalid_function_call' });
      expect(text(chunks)).to.contain('strawberry');
    });
  });

  describe('a stream that ends early', () => {
    it('without a finishReason → 502 after the text so far', async () => {
      const { chunks, error } = await translateUntilFailure(recorded('stream-text').slice(0, 2));
      expect(error).to.be.instanceOf(UpstreamError);
      expect((error as GatewayError).status).to.equal(502);
      expect(text(chunks)).to.equal('There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y');
      expect(finishReasons(chunks)).to.not.include('stop');
    });

    it('with no events at all → 502 and no chunks', async () => {
      const { chunks, error } = await translateUntilFailure([]);
      expect(error).to.be.instanceOf(UpstreamError);
      expect(chunks).to.deep.equal([]);
    });

    it('with a call but no finish → 502, not a tool_calls finish', async () => {
      const { chunks, error } = await translateUntilFailure(recorded('stream-tool-call-gemini3').slice(0, 1));
      expect(error).to.be.instanceOf(UpstreamError);
      expect(finishReasons(chunks)).to.deep.equal([null, null]);
    });

    it('passes an upstream failure through as it is', async () => {
      const failure = new Error('socket hang up');
      async function* failing(): AsyncGenerator<GeminiResponse> {
        yield recorded('stream-text')[0];
        throw failure;
      }
      const chunks: OpenAIChatChunk[] = [];
      let caught: unknown;
      try {
        for await (const chunk of translateGeminiStream(failing(), context())) chunks.push(chunk);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.equal(failure);
      expect(chunks).to.have.length(2);
    });
  });

  describe('the recorded prompt block (stream-prompt-block.chunks.txt)', () => {
    it('→ one chunk: the role, content null and content_filter', async () => {
      const chunks = await translate(recorded('stream-prompt-block'));
      expect(chunks).to.have.length(1);
      expect(chunks[0]).to.include({ id: 'chatcmpl-EXCPatOAKMrQjMcPteHVmQo', object: 'chat.completion.chunk' });
      expect(chunks[0]?.choices).to.deep.equal([
        { index: 0, delta: { role: 'assistant', content: null }, logprobs: null, finish_reason: 'content_filter' },
      ]);
    });

    it('with include_usage, then the prompt-only usage', async () => {
      const chunks = await translate(recorded('stream-prompt-block'), { includeUsage: true });
      expect(chunks).to.have.length(2);
      expect(chunks[0]?.usage).to.equal(null);
      expect(chunks[1]?.usage).to.include({ prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 });
    });
  });

  it('several candidates (n > 1) are streamed as separate choices, each with its role and finish', async () => {
    // Composed: the recorded text stream, each event carrying the candidate twice (index 0 and 1).
    const events = recorded('stream-text').map((event) => {
      const copy = structuredClone(event.candidates[0]);
      copy.index = 1;
      event.candidates.push(copy);
      return event;
    });
    const chunks = await translate(events);
    for (const index of [0, 1]) {
      const mine = chunks.filter((chunk) => chunk.choices[0]?.index === index);
      expect(deltas(mine)[0]).to.deep.equal({ role: 'assistant', content: '' });
      expect(finishReasons(mine).at(-1)).to.equal('stop');
      expect(text(mine)).to.equal('There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y');
    }
  });

  it('ignores what a candidate sends after its finish', async () => {
    // Composed: the recorded first text event repeated after the finishing one.
    const events = recorded('stream-text');
    events.push(recorded('stream-text')[0]);
    const chunks = await translate(events);
    expect(finishReasons(chunks).at(-1)).to.equal('stop');
    expect(text(chunks)).to.equal('There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y');
  });
});
