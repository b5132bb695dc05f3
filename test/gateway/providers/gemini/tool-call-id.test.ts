import { expect } from 'chai';
import { decodeGeminiToolCallId, encodeGeminiToolCallId } from '../../../../gateway/providers/gemini/tool-call-id.ts';
import { geminiFixture, geminiStreamFixture } from '../../../helpers/gemini-mock.ts';

/** The recorded Gemini 3 signature of generate-tool-call-gemini3.json (base64 with + and /). */
const recordedSignature: string =
  geminiFixture('generate-tool-call-gemini3').candidates[0].content.parts[0].thoughtSignature;

describe('Gemini tool-call ids', () => {
  it("Gemini's id → gemini_<id>", () => {
    expect(encodeGeminiToolCallId({ geminiId: 'call_345658' })).to.equal('gemini_call_345658');
  });

  it('no Gemini id → call_ + 16 random base64url characters, new every time', () => {
    const first = encodeGeminiToolCallId({});
    const second = encodeGeminiToolCallId({});
    expect(first).to.match(/^call_[A-Za-z0-9_-]{16}$/);
    expect(second).to.match(/^call_[A-Za-z0-9_-]{16}$/);
    expect(first).to.not.equal(second);
  });

  it('a signature follows __thought__', () => {
    expect(encodeGeminiToolCallId({ geminiId: 'abc', signature: recordedSignature })).to.equal(
      `gemini_abc__thought__${recordedSignature}`,
    );
    expect(encodeGeminiToolCallId({ signature: 'c2ln' })).to.match(/^call_[A-Za-z0-9_-]{16}__thought__c2ln$/);
  });

  describe('round trips', () => {
    const withId = geminiStreamFixture('stream-tool-call-with-id')[0].candidates[0].content.parts[0];
    for (const ref of [
      {},
      { geminiId: 'call_345658' },
      { signature: recordedSignature },
      { geminiId: withId.functionCall.id, signature: withId.thoughtSignature },
      { geminiId: 'x', signature: recordedSignature },
    ]) {
      it(JSON.stringify(ref).slice(0, 80), () => {
        expect(decodeGeminiToolCallId(encodeGeminiToolCallId(ref))).to.deep.equal(ref);
      });
    }
  });

  describe('decoding ids the gateway did not make', () => {
    for (const [id, expected] of [
      ['call_abc123', {}],
      ['toolu_01A09q90qw90lq917835lq9', {}],
      ['fc_6f2c', {}],
      ['gemini_', {}],
      ['gemini___thought__', {}],
      ['call_1__thought__', {}],
      ['__thought__sig', { signature: 'sig' }],
      ['Gemini_abc', {}],
    ] as const) {
      it(`${JSON.stringify(id)} → ${JSON.stringify(expected)}`, () => {
        expect(decodeGeminiToolCallId(id)).to.deep.equal(expected);
      });
    }

    it('only the first __thought__ separates: the rest belongs to the signature', () => {
      expect(decodeGeminiToolCallId('gemini_a__thought__b__thought__c')).to.deep.equal({
        geminiId: 'a',
        signature: 'b__thought__c',
      });
    });
  });
});
