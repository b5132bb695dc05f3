import { expect } from 'chai';
import { UpstreamError } from '../../../../gateway/openai/errors.ts';
import { mapGigaChatFinishReason } from '../../../../gateway/providers/gigachat/map-finish-reason.ts';
import type { GigaChatFinishReason } from '../../../../gateway/providers/gigachat/wire-types.ts';

describe('mapGigaChatFinishReason', () => {
  for (const [reason, expected] of [
    ['stop', 'stop'],
    [undefined, 'stop'],
    ['length', 'length'],
    ['function_call', 'tool_calls'],
    ['blacklist', 'content_filter'],
  ] as const) {
    it(`${reason} → ${expected}`, () => {
      expect(mapGigaChatFinishReason(reason as GigaChatFinishReason | undefined)).to.equal(expected);
    });
  }

  it('error (invalid function arguments) → 502 upstream_invalid_function_call, not a quiet stop', () => {
    expect(() => mapGigaChatFinishReason('error'))
      .to.throw(UpstreamError)
      .with.property('code', 'upstream_invalid_function_call');
  });
});
