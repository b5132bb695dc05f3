import { expect } from 'chai';
import { validateChatRequest } from '../../../gateway/openai/chat-request.schema.ts';
import { BadRequestError } from '../../../gateway/openai/errors.ts';

const user = { role: 'user', content: 'Привет' };

/** A minimal valid body with some fields replaced. */
function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'GigaChat-2-Max', messages: [user], ...overrides };
}

/** The 400 the validator throws for `input`. */
function rejection(input: unknown): BadRequestError {
  try {
    validateChatRequest(input);
  } catch (error) {
    expect(error).to.be.instanceOf(BadRequestError);
    return error as BadRequestError;
  }
  throw new Error('expected the body to be rejected');
}

function expectParam(input: unknown, param: string | null): BadRequestError {
  const error = rejection(input);
  expect(error.status).to.equal(400);
  expect(error.type).to.equal('invalid_request_error');
  expect(error.param).to.equal(param);
  return error;
}

describe('validateChatRequest', () => {
  describe('accepts', () => {
    it('a minimal request and returns the same object', () => {
      const input = body();
      expect(validateChatRequest(input)).to.equal(input);
    });

    it('the nulls the OpenAI SDKs send for unset options', () => {
      const input = body({
        temperature: null,
        top_p: null,
        stop: null,
        max_tokens: null,
        n: null,
        seed: null,
        stream: null,
        reasoning_effort: null,
      });
      expect(validateChatRequest(input)).to.equal(input);
    });

    it('an assistant message with content null and tool_calls, then the tool result', () => {
      const input = body({
        messages: [
          user,
          {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Москва"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp":3}' },
        ],
      });
      expect(validateChatRequest(input)).to.equal(input);
    });

    it('system, developer, content parts, tools, tool_choice and json_schema', () => {
      const input = body({
        messages: [
          { role: 'system', content: 'Будь краток.' },
          { role: 'developer', content: [{ type: 'text', text: 'Отвечай по-русски.' }] },
          { role: 'user', content: [{ type: 'text', text: 'Что на картинке?' }] },
        ],
        tools: [{ type: 'function', function: { name: 'weather_forecast', parameters: { type: 'object' } } }],
        tool_choice: { type: 'function', function: { name: 'weather_forecast' } },
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
        stop: ['a', 'b', 'c', 'd'],
        temperature: 2,
        top_p: 0,
        stream_options: { include_usage: true },
      });
      expect(validateChatRequest(input)).to.equal(input);
    });

    it('the GigaChat extras repetition_penalty, profanity_check and update_interval', () => {
      const input = body({ repetition_penalty: 1.1, profanity_check: false, update_interval: 0.5 });
      expect(validateChatRequest(input)).to.equal(input);
    });

    it('extra fields inside messages (clients echo whole response messages back)', () => {
      const input = body({ messages: [user, { role: 'assistant', content: 'Hi', reasoning_content: 'hmm' }] });
      expect(validateChatRequest(input)).to.equal(input);
    });
  });

  describe('rejects with status 400 and the offending param', () => {
    it('a missing model', () => {
      const error = expectParam({ messages: [user] }, 'model');
      expect(error.message).to.equal("Missing required parameter: 'model'.");
    });

    it('an empty model name', () => {
      expectParam(body({ model: '' }), 'model');
    });

    it('empty messages', () => {
      const error = expectParam(body({ messages: [] }), 'messages');
      expect(error.message).to.contain('at least 1 item');
    });

    it('an unknown role', () => {
      const error = expectParam(body({ messages: [user, { role: 'robot', content: 'beep' }] }), 'messages[1].role');
      expect(error.message).to.contain("'robot'");
      expect(error.message).to.contain("'assistant'");
    });

    it('a message without a role', () => {
      const error = expectParam(body({ messages: [{ content: 'hi' }] }), 'messages[0].role');
      expect(error.message).to.equal("Missing required parameter: 'messages[0].role'.");
    });

    it('a user message without content', () => {
      const error = expectParam(body({ messages: [{ role: 'user' }] }), 'messages[0].content');
      expect(error.message).to.equal("Missing required parameter: 'messages[0].content'.");
    });

    it('a tool message without tool_call_id', () => {
      expectParam(body({ messages: [user, { role: 'tool', content: 'x' }] }), 'messages[1].tool_call_id');
    });

    it('content of the wrong type', () => {
      const error = expectParam(body({ messages: [{ role: 'user', content: 42 }] }), 'messages[0].content');
      expect(error.message).to.contain('but got a number');
    });

    it('a model of the wrong type', () => {
      expectParam(body({ model: 5 }), 'model');
    });

    it('an unknown content part type', () => {
      expectParam(
        body({ messages: [{ role: 'user', content: [{ type: 'video', video: {} }] }] }),
        'messages[0].content[0].type',
      );
    });

    it('temperature above 2', () => {
      const error = expectParam(body({ temperature: 2.5 }), 'temperature');
      expect(error.message).to.contain('2.5');
    });

    it('negative temperature', () => {
      expectParam(body({ temperature: -0.1 }), 'temperature');
    });

    it('top_p above 1', () => {
      expectParam(body({ top_p: 1.5 }), 'top_p');
    });

    it('an unknown top-level argument, the way OpenAI words it', () => {
      const error = expectParam(body({ frobnicate: true }), 'frobnicate');
      expect(error.message).to.equal('Unrecognized request argument supplied: frobnicate');
    });

    it('an unknown tool_choice string', () => {
      const error = expectParam(body({ tool_choice: 'sometimes' }), 'tool_choice');
      expect(error.message).to.contain("expected 'none', 'auto', 'required'");
    });

    it('a tool_choice object without a function', () => {
      expectParam(body({ tool_choice: { type: 'function' } }), 'tool_choice');
    });

    it('stop with 5 items', () => {
      const error = expectParam(body({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop');
      expect(error.message).to.contain('at most 4 item(s), but got 5');
    });

    it('a tool function name with characters OpenAI does not allow', () => {
      const tools = [{ type: 'function', function: { name: 'get weather!' } }];
      expectParam(body({ tools }), 'tools[0].function.name');
    });

    it('a tool function name longer than 64 characters', () => {
      const tools = [{ type: 'function', function: { name: 'x'.repeat(65) } }];
      expectParam(body({ tools }), 'tools[0].function.name');
    });

    it('tool call arguments sent as an object instead of a JSON string', () => {
      const call = { id: 'call_1', type: 'function', function: { name: 'f', arguments: { city: 'Москва' } } };
      const error = expectParam(
        body({ messages: [user, { role: 'assistant', content: null, tool_calls: [call] }] }),
        'messages[1].tool_calls[0].function.arguments',
      );
      expect(error.message).to.contain('expected string, but got an object');
    });

    it('a function tool without its function', () => {
      expectParam(body({ tools: [{ type: 'function' }] }), 'tools[0].function');
    });

    it('response_format json_schema without json_schema', () => {
      expectParam(body({ response_format: { type: 'json_schema' } }), 'response_format.json_schema');
    });

    it('a stop array with a non-string item', () => {
      expectParam(body({ stop: ['END', 1] }), 'stop[1]');
    });

    it('an unknown reasoning_effort', () => {
      const error = expectParam(body({ reasoning_effort: 'extreme' }), 'reasoning_effort');
      expect(error.message).to.contain("'extreme'");
    });

    it('a non-positive max_tokens', () => {
      expectParam(body({ max_tokens: 0 }), 'max_tokens');
    });

    it('an unknown stream_options field', () => {
      expectParam(body({ stream_options: { include_usage: true, extra: 1 } }), 'stream_options.extra');
    });

    it('repetition_penalty of 0 (GigaChat wants it above 0)', () => {
      expectParam(body({ repetition_penalty: 0 }), 'repetition_penalty');
    });

    for (const [label, input, got] of [
      ['an array', [], 'an array'],
      ['a string', 'hello', 'a string'],
      ['null', null, 'null'],
    ] as const) {
      it(`a body that is ${label}, not an object`, () => {
        const error = expectParam(input, null);
        expect(error.message).to.equal(`The request body must be a JSON object, but got ${got}.`);
      });
    }
  });
});
