import { expect } from 'chai';
import { UpstreamError } from '../../../../gateway/openai/errors.ts';
import { decodeGeminiToolCallId } from '../../../../gateway/providers/gemini/tool-call-id.ts';
import {
  answerText,
  geminiCompletionId,
  mapGeminiUsage,
  toOpenAIToolCall,
  translateGeminiResponse,
} from '../../../../gateway/providers/gemini/translate-response.ts';
import type { GeminiResponse } from '../../../../gateway/providers/gemini/wire-types.ts';
import { geminiFixture, geminiStreamFixture } from '../../../helpers/gemini-mock.ts';

const context = { model: 'gemini-3-pro-preview' };

/** A fresh copy of a recorded generateContent answer. */
const recorded = (name: string): GeminiResponse => structuredClone(geminiFixture<GeminiResponse>(name));

function translate(response: GeminiResponse, id = 'chatcmpl-test') {
  return translateGeminiResponse(response, id, context);
}

/** The recorded text answer with its finishReason replaced (composed: no recording has these reasons). */
function textFinishing(reason: string): GeminiResponse {
  const response = recorded('generate-text');
  response.candidates![0]!.finishReason = reason as never;
  return response;
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('translateGeminiResponse', () => {
  it('turns the recorded text answer (generate-text.json) into a chat completion', () => {
    const before = Math.floor(Date.now() / 1000);
    const completion = translate(recorded('generate-text'), 'chatcmpl-Un6LacrVMcjUxs0PmJfWoQc');
    expect(completion.created).to.be.within(before, Math.floor(Date.now() / 1000));
    expect({ ...completion, created: 0 }).to.deep.equal({
      id: 'chatcmpl-Un6LacrVMcjUxs0PmJfWoQc',
      object: 'chat.completion',
      created: 0,
      model: 'gemini-3-pro-preview',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.",
            refusal: null,
          },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      // 9 + 28 + 244 = 281: thoughts count as completion tokens.
      usage: {
        prompt_tokens: 9,
        completion_tokens: 272,
        total_tokens: 281,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 244 },
      },
    });
  });

  it('reports the model the client asked for, not modelVersion', () => {
    const completion = translateGeminiResponse(recorded('generate-text'), 'x', { model: 'gemini-3-pro' });
    expect(completion.model).to.equal('gemini-3-pro');
  });

  it('drops thought parts and joins the other text parts', () => {
    // Composed from generate-text.json: a copy of its part marked as a thought goes first.
    const response = recorded('generate-text');
    const parts = response.candidates![0]!.content!.parts!;
    parts.unshift({ text: 'Let me count the letters…', thought: true });
    parts.push({ text: ' Done.' });
    expect(translate(response).choices[0]?.message.content).to.equal(
      "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y. Done.",
    );
  });

  it('the recorded Gemini 3 tool call (generate-tool-call-gemini3.json) → tool_calls, content null', () => {
    const response = recorded('generate-tool-call-gemini3');
    const part = response.candidates![0]!.content!.parts![0]!;
    const choice = translate(response).choices[0];
    expect(choice?.finish_reason).to.equal('tool_calls');
    expect(choice?.message.content).to.equal(null);
    expect(choice?.message.tool_calls).to.have.length(1);
    const call = choice!.message.tool_calls![0]!;
    if (call.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function).to.deep.equal({ name: 'weather', arguments: '{"location":"San Francisco"}' });
    // No Gemini id in the recording: ours, carrying the signature for the next turn.
    expect(call.id).to.match(/^call_[A-Za-z0-9_-]{16}__thought__/);
    expect(decodeGeminiToolCallId(call.id)).to.deep.equal({ signature: part.thoughtSignature });
  });

  it('keeps text that comes with a tool call', () => {
    // Composed from generate-tool-call-gemini3.json: a text part before the call.
    const response = recorded('generate-tool-call-gemini3');
    response.candidates![0]!.content!.parts!.unshift({ text: 'Let me check.' });
    const choice = translate(response).choices[0];
    expect(choice?.message.content).to.equal('Let me check.');
    expect(choice?.message.tool_calls).to.have.length(1);
    expect(choice?.finish_reason).to.equal('tool_calls');
  });

  it('the recorded prompt block (generate-prompt-block.json) → 200, content null, content_filter', () => {
    const completion = translate(recorded('generate-prompt-block'));
    expect(completion.choices).to.deep.equal([
      {
        index: 0,
        message: { role: 'assistant', content: null, refusal: null },
        logprobs: null,
        finish_reason: 'content_filter',
      },
    ]);
    expect(completion.usage).to.deep.equal({
      prompt_tokens: 9,
      completion_tokens: 0,
      total_tokens: 9,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('no candidates and no block reason → 502', () => {
    const response = recorded('generate-prompt-block');
    delete response.promptFeedback;
    const error = thrownBy(() => translate(response));
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error).to.include({ status: 502 });
  });

  it('MAX_TOKENS → length, with the text so far', () => {
    const choice = translate(textFinishing('MAX_TOKENS')).choices[0];
    expect(choice?.finish_reason).to.equal('length');
    expect(choice?.message.content).to.contain('strawberry');
  });

  it('MAX_TOKENS spent on thinking alone → length with empty content', () => {
    const response = textFinishing('MAX_TOKENS');
    response.candidates![0]!.content!.parts = [];
    const choice = translate(response).choices[0];
    expect(choice?.finish_reason).to.equal('length');
    expect(choice?.message.content).to.equal('');
  });

  it('SAFETY with no content → content_filter, content null', () => {
    const response = textFinishing('SAFETY');
    delete response.candidates![0]!.content;
    const choice = translate(response).choices[0];
    expect(choice?.finish_reason).to.equal('content_filter');
    expect(choice?.message.content).to.equal(null);
  });

  it('MALFORMED_FUNCTION_CALL → 502', () => {
    const response = textFinishing('MALFORMED_FUNCTION_CALL');
    delete response.candidates![0]!.content;
    const error = thrownBy(() => translate(response));
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error).to.include({ status: 502, code: 'upstream_invalid_function_call' });
  });

  it('several candidates (n > 1) → one choice each, by Gemini index', () => {
    // Composed: the recorded text candidate twice, as candidateCount 2 returns them.
    const response = recorded('generate-text');
    const second = structuredClone(response.candidates![0]!);
    second.index = 1;
    second.content!.parts![0]!.text = 'Three.';
    response.candidates!.push(second);
    const choices = translate(response).choices;
    expect(choices.map((choice) => choice.index)).to.deep.equal([0, 1]);
    expect(choices[1]?.message.content).to.equal('Three.');
  });

  it('a candidate without index takes its position', () => {
    const response = recorded('generate-text');
    delete response.candidates![0]!.index;
    expect(translate(response).choices[0]?.index).to.equal(0);
  });

  it('no usageMetadata → no usage', () => {
    const response = recorded('generate-text');
    delete response.usageMetadata;
    expect(translate(response)).to.not.have.property('usage');
  });
});

describe('mapGeminiUsage', () => {
  it('the recorded tool-call usage: completion = candidates + thoughts', () => {
    expect(mapGeminiUsage(geminiFixture('generate-tool-call-gemini3').usageMetadata)).to.deep.equal({
      prompt_tokens: 29,
      completion_tokens: 1816,
      total_tokens: 1845,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 1801 },
    });
  });

  it('cachedContentTokenCount → prompt_tokens_details.cached_tokens', () => {
    // Composed: the recorded usage with a cache hit added.
    const usage = { ...geminiFixture('generate-text').usageMetadata, cachedContentTokenCount: 8 };
    expect(mapGeminiUsage(usage).prompt_tokens_details).to.deep.equal({ cached_tokens: 8 });
  });

  it('a usage without thoughts or total', () => {
    expect(mapGeminiUsage({ promptTokenCount: 5, candidatesTokenCount: 3 })).to.deep.equal({
      prompt_tokens: 5,
      completion_tokens: 3,
      total_tokens: 8,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('an empty usage is all zeros', () => {
    expect(mapGeminiUsage({})).to.include({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });
});

describe('toOpenAIToolCall', () => {
  it("the recorded call with Gemini's id (stream-tool-call-with-id) → gemini_ id with its signature", () => {
    const part = geminiStreamFixture('stream-tool-call-with-id')[0].candidates[0].content.parts[0];
    const call = toOpenAIToolCall(part);
    expect(call).to.deep.equal({
      id: 'gemini_call_345658__thought__<redacted>',
      type: 'function',
      function: { name: 'search', arguments: '{"condition":{"or":[{"term":"x"},{"term":"y"}]}}' },
    });
  });

  it('a call without args or signature → arguments {} and a plain call_ id', () => {
    const call = toOpenAIToolCall({ functionCall: { name: 'ping' } });
    expect(call.id).to.match(/^call_[A-Za-z0-9_-]{16}$/);
    expect(call.function).to.deep.equal({ name: 'ping', arguments: '{}' });
  });
});

describe('answerText', () => {
  it('joins non-thought text parts and skips the rest', () => {
    expect(
      answerText([
        { text: 'thinking', thought: true },
        { text: 'a' },
        { functionCall: { name: 'f' } },
        { text: '' },
        { text: 'b', thoughtSignature: 'sig' },
      ]),
    ).to.equal('ab');
  });
});

describe('geminiCompletionId', () => {
  it("chatcmpl- + Gemini's responseId, or the fallback", () => {
    expect(geminiCompletionId(geminiFixture('generate-text'), 'chatcmpl-x')).to.equal(
      'chatcmpl-Un6LacrVMcjUxs0PmJfWoQc',
    );
    expect(geminiCompletionId({}, 'chatcmpl-x')).to.equal('chatcmpl-x');
  });
});
