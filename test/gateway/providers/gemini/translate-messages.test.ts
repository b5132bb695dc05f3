import { expect } from 'chai';
import { BadRequestError } from '../../../../gateway/openai/errors.ts';
import type { OpenAIMessage } from '../../../../gateway/openai/types.ts';
import { encodeGeminiToolCallId } from '../../../../gateway/providers/gemini/tool-call-id.ts';
import {
  type GeminiMessagesContext,
  SKIP_THOUGHT_SIGNATURE,
  translateGeminiMessages,
} from '../../../../gateway/providers/gemini/translate-messages.ts';
import type { GeminiInlineData } from '../../../../gateway/providers/gemini/wire-types.ts';
import { geminiFixture, geminiStreamFixture } from '../../../helpers/gemini-mock.ts';

/** The recorded Gemini 3 call (generate-tool-call-gemini3.json): no call id, a thought signature. */
const recordedCall = geminiFixture('generate-tool-call-gemini3').candidates[0].content.parts[0];
/** The recorded call with Gemini's own id (stream-tool-call-with-id.chunks.txt). */
const recordedCallWithId = geminiStreamFixture('stream-tool-call-with-id')[0].candidates[0].content.parts[0];

const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PIXEL_URL = `data:image/png;base64,${PIXEL}`;

function context(overrides: Partial<GeminiMessagesContext> = {}): GeminiMessagesContext {
  return { media: new Map(), checksThoughtSignatures: false, ...overrides };
}

function translate(messages: unknown[], overrides: Partial<GeminiMessagesContext> = {}) {
  return translateGeminiMessages(messages as OpenAIMessage[], context(overrides));
}

/** The 400 that translating `messages` throws. */
function rejection(messages: unknown[], overrides: Partial<GeminiMessagesContext> = {}): BadRequestError {
  try {
    translate(messages, overrides);
  } catch (error) {
    expect(error).to.be.instanceOf(BadRequestError);
    expect((error as BadRequestError).status).to.equal(400);
    return error as BadRequestError;
  }
  throw new Error('expected a 400');
}

function toolCall(id: string, name: string, args: string, extra: Record<string, unknown> = {}) {
  return { id, type: 'function', function: { name, arguments: args }, ...extra };
}

const user = (content: unknown) => ({ role: 'user', content });
const assistantCalls = (...calls: unknown[]) => ({ role: 'assistant', content: null, tool_calls: calls });
const toolResult = (id: string, content: unknown) => ({ role: 'tool', tool_call_id: id, content });

describe('translateGeminiMessages', () => {
  describe('system and developer messages', () => {
    it('go to systemInstruction in order, wherever they stand', () => {
      const conversation = translate([
        { role: 'system', content: 'You are terse.' },
        user('Hi'),
        { role: 'developer', content: [{ type: 'text', text: 'Answer in Russian.' }] },
        { role: 'assistant', content: 'Привет' },
        { role: 'system', content: 'Never use emoji.' },
        user('Как дела?'),
      ]);
      expect(conversation.systemInstruction).to.deep.equal({
        parts: [{ text: 'You are terse.' }, { text: 'Answer in Russian.' }, { text: 'Never use emoji.' }],
      });
      expect(conversation.contents).to.deep.equal([
        { role: 'user', parts: [{ text: 'Hi' }] },
        { role: 'model', parts: [{ text: 'Привет' }] },
        { role: 'user', parts: [{ text: 'Как дела?' }] },
      ]);
    });

    it('no system message → no systemInstruction', () => {
      expect(translate([user('Hi')])).to.deep.equal({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
    });

    it('a system message between two user messages does not split their turn', () => {
      const conversation = translate([user('a'), { role: 'system', content: 's' }, user('b')]);
      expect(conversation.contents).to.deep.equal([{ role: 'user', parts: [{ text: 'a' }, { text: 'b' }] }]);
    });

    it('empty system texts are left out', () => {
      const conversation = translate([{ role: 'system', content: '' }, user('Hi')]);
      expect(conversation).to.not.have.property('systemInstruction');
    });

    it('a non-text part in a system message → 400 naming it', () => {
      const error = rejection([
        { role: 'system', content: [{ type: 'image_url', image_url: { url: PIXEL_URL } }] },
        user('Hi'),
      ]);
      expect(error.param).to.equal('messages[0].content[0].type');
    });

    it('only system messages → 400 naming messages', () => {
      const error = rejection([
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: 'Be kind.' },
      ]);
      expect(error.param).to.equal('messages');
    });

    it('an empty user message does not count as a turn', () => {
      expect(rejection([{ role: 'system', content: 's' }, user('')]).param).to.equal('messages');
    });
  });

  describe('turns', () => {
    it('merges consecutive messages of one role (Gemini wants user and model to alternate)', () => {
      const conversation = translate([
        user('one'),
        user([{ type: 'text', text: 'two' }]),
        { role: 'assistant', content: 'three' },
        { role: 'assistant', content: [{ type: 'text', text: 'four' }] },
        user('five'),
      ]);
      expect(conversation.contents).to.deep.equal([
        { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
        { role: 'model', parts: [{ text: 'three' }, { text: 'four' }] },
        { role: 'user', parts: [{ text: 'five' }] },
      ]);
    });

    it('leaves out empty texts and empty assistant messages', () => {
      const conversation = translate([
        user([
          { type: 'text', text: '' },
          { type: 'text', text: 'x' },
        ]),
        { role: 'assistant', content: '' },
        { role: 'assistant', content: null },
        user('y'),
      ]);
      expect(conversation.contents).to.deep.equal([{ role: 'user', parts: [{ text: 'x' }, { text: 'y' }] }]);
    });

    it('an assistant refusal part is sent as model text', () => {
      const conversation = translate([
        user('q'),
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] },
      ]);
      expect(conversation.contents[1]).to.deep.equal({ role: 'model', parts: [{ text: 'No.' }] });
    });
  });

  describe('assistant tool calls', () => {
    it('become functionCall parts with parsed arguments, after the text', () => {
      const conversation = translate([
        user('Weather in SF and LA?'),
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            toolCall('call_a', 'weather', '{"location":"San Francisco"}'),
            toolCall('call_b', 'weather', '{"location":"Los Angeles","units":{"t":"c"}}'),
          ],
        },
        toolResult('call_a', '{"temp":18}'),
        toolResult('call_b', '{"temp":25}'),
      ]);
      expect(conversation.contents[1]).to.deep.equal({
        role: 'model',
        parts: [
          { text: 'Checking.' },
          { functionCall: { name: 'weather', args: { location: 'San Francisco' } } },
          { functionCall: { name: 'weather', args: { location: 'Los Angeles', units: { t: 'c' } } } },
        ],
      });
    });

    it('empty arguments become {}', () => {
      const conversation = translate([
        user('ping'),
        assistantCalls(toolCall('call_a', 'ping', '')),
        toolResult('call_a', 'pong'),
      ]);
      expect(conversation.contents[1]?.parts).to.deep.equal([{ functionCall: { name: 'ping', args: {} } }]);
    });

    it("sends Gemini's own id back, from a gemini_ id (the recorded call_345658)", () => {
      const id = encodeGeminiToolCallId({
        geminiId: recordedCallWithId.functionCall.id,
        signature: recordedCallWithId.thoughtSignature,
      });
      const conversation = translate([
        user('search'),
        assistantCalls(toolCall(id, 'search', JSON.stringify(recordedCallWithId.functionCall.args))),
        toolResult(id, '[]'),
      ]);
      expect(conversation.contents[1]?.parts).to.deep.equal([
        {
          functionCall: { name: 'search', args: recordedCallWithId.functionCall.args, id: 'call_345658' },
          thoughtSignature: '<redacted>',
        },
      ]);
      expect(conversation.contents[2]?.parts).to.deep.equal([
        { functionResponse: { name: 'search', response: { output: [] }, id: 'call_345658' } },
      ]);
    });

    it("never sends an id Gemini did not make (call_… ids of ours or another provider's)", () => {
      const conversation = translate([
        user('x'),
        assistantCalls(toolCall('call_345658', 'search', '{}'), toolCall('toolu_01', 'search', '{}')),
        toolResult('call_345658', 'a'),
        toolResult('toolu_01', 'b'),
      ]);
      for (const content of conversation.contents.slice(1)) {
        for (const part of content.parts ?? []) {
          expect(part.functionCall ?? {}).to.not.have.property('id');
          expect(part.functionResponse ?? {}).to.not.have.property('id');
        }
      }
    });

    it('the thought signature comes from the id (the recorded Gemini 3 call)', () => {
      const id = encodeGeminiToolCallId({ signature: recordedCall.thoughtSignature });
      const conversation = translate(
        [
          user('weather?'),
          assistantCalls(toolCall(id, 'weather', '{"location":"San Francisco"}')),
          toolResult(id, '18'),
        ],
        { checksThoughtSignatures: true },
      );
      expect(conversation.contents[1]?.parts).to.deep.equal([
        {
          functionCall: { name: 'weather', args: { location: 'San Francisco' } },
          thoughtSignature: recordedCall.thoughtSignature,
        },
      ]);
    });

    it("or from extra_content.google.thought_signature (Google's compat endpoint's field)", () => {
      const call = toolCall('call_x', 'weather', '{}', {
        extra_content: { google: { thought_signature: recordedCall.thoughtSignature } },
      });
      const conversation = translate([user('weather?'), assistantCalls(call), toolResult('call_x', '18')], {
        checksThoughtSignatures: true,
      });
      expect(conversation.contents[1]?.parts?.[0]?.thoughtSignature).to.equal(recordedCall.thoughtSignature);
    });

    it('the signature in the id wins over extra_content', () => {
      const id = encodeGeminiToolCallId({ signature: 'from-id' });
      const call = toolCall(id, 'weather', '{}', { extra_content: { google: { thought_signature: 'from-extra' } } });
      const conversation = translate([user('w'), assistantCalls(call), toolResult(id, '1')]);
      expect(conversation.contents[1]?.parts?.[0]?.thoughtSignature).to.equal('from-id');
    });

    it('on Gemini 3, the first call of a turn without a signature gets skip_thought_signature_validator', () => {
      const conversation = translate(
        [
          user('SF and LA?'),
          assistantCalls(toolCall('call_a', 'weather', '{}'), toolCall('call_b', 'weather', '{}')),
          toolResult('call_a', '1'),
          toolResult('call_b', '2'),
          assistantCalls(toolCall('call_c', 'weather', '{}')),
          toolResult('call_c', '3'),
        ],
        { checksThoughtSignatures: true },
      );
      expect(SKIP_THOUGHT_SIGNATURE).to.equal('skip_thought_signature_validator');
      expect(conversation.contents[1]?.parts?.map((part) => part.thoughtSignature)).to.deep.equal([
        SKIP_THOUGHT_SIGNATURE,
        undefined,
      ]);
      expect(conversation.contents[3]?.parts?.map((part) => part.thoughtSignature)).to.deep.equal([
        SKIP_THOUGHT_SIGNATURE,
      ]);
    });

    it('on Gemini 3, a first call that has its signature keeps it (no sentinel anywhere)', () => {
      const id = encodeGeminiToolCallId({ signature: recordedCall.thoughtSignature });
      const conversation = translate(
        [
          user('SF and LA?'),
          assistantCalls(toolCall(id, 'weather', '{}'), toolCall('call_b', 'weather', '{}')),
          toolResult(id, '1'),
          toolResult('call_b', '2'),
        ],
        { checksThoughtSignatures: true },
      );
      expect(conversation.contents[1]?.parts?.map((part) => part.thoughtSignature)).to.deep.equal([
        recordedCall.thoughtSignature,
        undefined,
      ]);
    });

    it('before Gemini 3 (2.5), calls without a signature get none', () => {
      const conversation = translate([
        user('x'),
        assistantCalls(toolCall('call_a', 'weather', '{}')),
        toolResult('call_a', '1'),
      ]);
      expect(conversation.contents[1]?.parts?.[0]).to.not.have.property('thoughtSignature');
    });

    it('a legacy function_call becomes a functionCall, with the sentinel on Gemini 3', () => {
      const messages = [
        user('x'),
        { role: 'assistant', content: null, function_call: { name: 'weather', arguments: '{"city":"Kazan"}' } },
        { role: 'function', name: 'weather', content: '{"temp":3}' },
      ];
      const gemini3 = translate(messages, { checksThoughtSignatures: true });
      expect(gemini3.contents).to.deep.equal([
        { role: 'user', parts: [{ text: 'x' }] },
        {
          role: 'model',
          parts: [
            { functionCall: { name: 'weather', args: { city: 'Kazan' } }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
          ],
        },
        { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { output: { temp: 3 } } } }] },
      ]);
      expect(translate(messages).contents[1]?.parts).to.deep.equal([
        { functionCall: { name: 'weather', args: { city: 'Kazan' } } },
      ]);
    });

    for (const [args, why] of [
      ['{"location":', 'not JSON'],
      ['[1,2]', 'not an object'],
      ['"text"', 'not an object'],
    ] as const) {
      it(`arguments ${args} (${why}) → 400 naming the path`, () => {
        const error = rejection([
          user('x'),
          assistantCalls(toolCall('call_a', 'a', '{}'), toolCall('call_b', 'b', args)),
          toolResult('call_a', '1'),
          toolResult('call_b', '2'),
        ]);
        expect(error.param).to.equal('messages[1].tool_calls[1].function.arguments');
      });
    }

    it('invalid legacy function_call arguments → 400 naming the path', () => {
      const error = rejection([
        user('x'),
        { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{' } },
      ]);
      expect(error.param).to.equal('messages[1].function_call.arguments');
    });

    it('a custom tool call → 400 naming its type', () => {
      const error = rejection([
        user('x'),
        assistantCalls({ id: 'call_a', type: 'custom', custom: { name: 'grammar', input: 'x' } }),
      ]);
      expect(error.param).to.equal('messages[1].tool_calls[0].type');
    });
  });

  describe('tool results', () => {
    it('consecutive results become one user turn, named after their calls', () => {
      const conversation = translate([
        user('Weather and time?'),
        assistantCalls(toolCall('call_w', 'weather', '{}'), toolCall('call_t', 'time', '{}')),
        toolResult('call_t', '12:00'),
        toolResult('call_w', [
          { type: 'text', text: '{"temp":' },
          { type: 'text', text: '18}' },
        ]),
        { role: 'assistant', content: 'Noon and 18°.' },
      ]);
      expect(conversation.contents).to.deep.equal([
        { role: 'user', parts: [{ text: 'Weather and time?' }] },
        {
          role: 'model',
          parts: [{ functionCall: { name: 'weather', args: {} } }, { functionCall: { name: 'time', args: {} } }],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'time', response: { output: '12:00' } } },
            // Text parts are joined with a newline; the result is JSON, so it is sent parsed.
            { functionResponse: { name: 'weather', response: { output: { temp: 18 } } } },
          ],
        },
        { role: 'model', parts: [{ text: 'Noon and 18°.' }] },
      ]);
    });

    it('JSON results are sent parsed, anything else as the text', () => {
      const conversation = translate([
        user('x'),
        assistantCalls(
          toolCall('c1', 'f', '{}'),
          toolCall('c2', 'f', '{}'),
          toolCall('c3', 'f', '{}'),
          toolCall('c4', 'f', '{}'),
        ),
        toolResult('c1', '42'),
        toolResult('c2', 'not json {'),
        toolResult('c3', ''),
        toolResult('c4', '["a"]'),
      ]);
      expect(conversation.contents[2]?.parts?.map((part) => part.functionResponse?.response)).to.deep.equal([
        { output: 42 },
        { output: 'not json {' },
        { output: '' },
        { output: ['a'] },
      ]);
    });

    it('names come from the call answered, across turns', () => {
      const conversation = translate([
        user('x'),
        assistantCalls(toolCall('c1', 'first', '{}')),
        toolResult('c1', '1'),
        assistantCalls(toolCall('c2', 'second', '{}')),
        toolResult('c2', '2'),
      ]);
      expect(conversation.contents.map((content) => content.role)).to.deep.equal([
        'user',
        'model',
        'user',
        'model',
        'user',
      ]);
      expect(conversation.contents[4]?.parts?.[0]?.functionResponse?.name).to.equal('second');
    });

    it('a user message right after the results joins their turn', () => {
      const conversation = translate([
        user('x'),
        assistantCalls(toolCall('c1', 'f', '{}')),
        toolResult('c1', '1'),
        user('and?'),
      ]);
      expect(conversation.contents[2]).to.deep.equal({
        role: 'user',
        parts: [{ functionResponse: { name: 'f', response: { output: 1 } } }, { text: 'and?' }],
      });
    });

    it('an unknown tool_call_id → 400 naming messages[i].tool_call_id', () => {
      const error = rejection([
        user('x'),
        assistantCalls(toolCall('c1', 'f', '{}')),
        toolResult('c1', '1'),
        toolResult('c9', '2'),
      ]);
      expect(error.param).to.equal('messages[3].tool_call_id');
      expect(error.message).to.contain("'c9'");
    });

    it('a second result for one call → 400 (Gemini wants exactly one response per call)', () => {
      const error = rejection([
        user('x'),
        assistantCalls(toolCall('c1', 'f', '{}')),
        toolResult('c1', '1'),
        toolResult('c1', '2'),
      ]);
      expect(error.param).to.equal('messages[3].tool_call_id');
      expect(error.message).to.contain('already answered');
    });

    it('a tool message before any call → 400', () => {
      expect(rejection([user('x'), toolResult('c1', '1')]).param).to.equal('messages[1].tool_call_id');
    });

    it('a call left unanswered before the next message → 400 naming the call', () => {
      const error = rejection([
        user('x'),
        assistantCalls(toolCall('c1', 'f', '{}'), toolCall('c2', 'g', '{}')),
        toolResult('c1', '1'),
        user('never mind'),
      ]);
      expect(error.param).to.equal('messages[1].tool_calls[1].id');
      expect(error.message).to.contain("'c2'");
    });

    it('a result that does not directly follow its call → 400 naming the call', () => {
      const error = rejection([
        user('x'),
        assistantCalls(toolCall('c1', 'f', '{}')),
        user('hurry up'),
        toolResult('c1', '1'),
      ]);
      expect(error.param).to.equal('messages[1].tool_calls[0].id');
    });

    it('a call left unanswered at the end → 400', () => {
      const error = rejection([user('x'), assistantCalls(toolCall('c1', 'f', '{}'))]);
      expect(error.param).to.equal('messages[1].tool_calls[0].id');
    });

    it('a non-text part in a tool result → 400 naming it', () => {
      const error = rejection([
        user('x'),
        assistantCalls(toolCall('c1', 'f', '{}')),
        toolResult('c1', [{ type: 'image_url', image_url: { url: PIXEL_URL } }]),
      ]);
      expect(error.param).to.equal('messages[2].content[0].type');
    });

    it('a legacy function message with no content → an empty output', () => {
      const conversation = translate([
        user('x'),
        { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{}' } },
        { role: 'function', name: 'f', content: null },
      ]);
      expect(conversation.contents[2]?.parts).to.deep.equal([
        { functionResponse: { name: 'f', response: { output: '' } } },
      ]);
    });
  });

  describe('user media', () => {
    it('an image_url becomes the inline data resolve-media.ts prepared', () => {
      const media = new Map<string, GeminiInlineData>([
        [PIXEL_URL, { mimeType: 'image/png', data: PIXEL }],
        ['https://example.com/cat.jpg', { mimeType: 'image/jpeg', data: '/9j/' }],
      ]);
      const conversation = translate(
        [
          user([
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: PIXEL_URL } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
          ]),
        ],
        { media },
      );
      expect(conversation.contents).to.deep.equal([
        {
          role: 'user',
          parts: [
            { text: 'What is in these?' },
            { inlineData: { mimeType: 'image/png', data: PIXEL } },
            { inlineData: { mimeType: 'image/jpeg', data: '/9j/' } },
          ],
        },
      ]);
    });

    it('an image that was not resolved first is a bug of ours, not a 400', () => {
      expect(() => translate([user([{ type: 'image_url', image_url: { url: PIXEL_URL } }])])).to.throw(
        Error,
        'was not resolved',
      );
    });

    it('input_audio → inline audio/wav or audio/mp3', () => {
      const conversation = translate([
        user([
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
          { type: 'input_audio', input_audio: { data: 'SUQz', format: 'mp3' } },
        ]),
      ]);
      expect(conversation.contents[0]?.parts).to.deep.equal([
        { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
        { inlineData: { mimeType: 'audio/mp3', data: 'SUQz' } },
      ]);
    });

    for (const audio of [
      { data: '', format: 'wav' },
      { data: 'SUQz', format: 'ogg' },
      { format: 'mp3' },
      { data: 'not base64!', format: 'wav' },
    ]) {
      it(`input_audio ${JSON.stringify(audio)} → 400 naming it`, () => {
        const error = rejection([
          user([
            { type: 'text', text: 'x' },
            { type: 'input_audio', input_audio: audio },
          ]),
        ]);
        expect(error.param).to.equal('messages[0].content[1].input_audio');
      });
    }

    it('a file with a base64 data: URL → inline data of its type', () => {
      const conversation = translate([
        user([{ type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } }]),
      ]);
      expect(conversation.contents[0]?.parts).to.deep.equal([
        { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
      ]);
    });

    for (const file of [{ file_id: 'file-abc' }, { file_data: 'JVBERi0=' }, { file_data: 'https://x/a.pdf' }]) {
      it(`a file ${JSON.stringify(file)} → 400 naming file_data`, () => {
        const error = rejection([user([{ type: 'file', file }])]);
        expect(error.param).to.equal('messages[0].content[0].file.file_data');
      });
    }
  });
});
