import { expect } from 'chai';
import { UpstreamError } from '../../../../gateway/openai/errors.ts';
import { mapGeminiFinishReason } from '../../../../gateway/providers/gemini/map-finish-reason.ts';

describe('mapGeminiFinishReason', () => {
  for (const [reason, expected] of [
    ['STOP', 'stop'],
    [undefined, 'stop'],
    ['FINISH_REASON_UNSPECIFIED', 'stop'],
    ['OTHER', 'stop'],
    ['UNEXPECTED_TOOL_CALL', 'stop'],
    ['TOO_MANY_TOOL_CALLS', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['LANGUAGE', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['SPII', 'content_filter'],
    ['IMAGE_SAFETY', 'content_filter'],
    ['IMAGE_PROHIBITED_CONTENT', 'content_filter'],
    ['IMAGE_RECITATION', 'content_filter'],
  ] as const) {
    it(`${reason} → ${expected}`, () => {
      expect(mapGeminiFinishReason(reason, false)).to.equal(expected);
    });
  }

  // Gemini ends a turn with calls as STOP (generate-tool-call-gemini3.json); OpenAI tool loops need tool_calls.
  for (const reason of ['STOP', 'MAX_TOKENS', 'SAFETY', undefined]) {
    it(`${reason} with tool calls → tool_calls`, () => {
      expect(mapGeminiFinishReason(reason, true)).to.equal('tool_calls');
    });
  }

  it('MALFORMED_FUNCTION_CALL → 502 upstream_invalid_function_call, not a quiet stop', () => {
    let thrown: unknown;
    try {
      mapGeminiFinishReason('MALFORMED_FUNCTION_CALL', false);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(UpstreamError);
    expect(thrown).to.include({ status: 502, code: 'upstream_invalid_function_call' });
    expect((thrown as Error).message).to.contain('MALFORMED_FUNCTION_CALL');
  });
});
