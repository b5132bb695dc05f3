import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { UpstreamError } from '../../../../gateway/openai/errors.ts';
import {
  type GigaChatResponseContext,
  translateGigaChatResponse,
} from '../../../../gateway/providers/gigachat/translate-response.ts';
import type { GigaChatCompletion } from '../../../../gateway/providers/gigachat/wire-types.ts';
import { recordedExchange } from '../../../helpers/cassettes.ts';

const context: GigaChatResponseContext = { id: 'chatcmpl-test123', model: 'GigaChat-2-Max', stop: [] };

/** The SDK's function-call response, which has no functions_state_id. */
const sdkFunctionCall = JSON.parse(
  readFileSync(new URL('../../../fixtures/gigachat/chat-function-call.json', import.meta.url), 'utf8'),
) as GigaChatCompletion;

/** The recorded chat-plain response with other content and finish_reason. */
function completion(content: string, finishReason?: string): GigaChatCompletion {
  const response = structuredClone(recordedExchange('chat-plain').response);
  response.choices[0].message.content = content;
  if (finishReason !== undefined) response.choices[0].finish_reason = finishReason;
  return response;
}

describe('translateGigaChatResponse', () => {
  it('turns the recorded chat-plain response into an OpenAI completion', () => {
    const recorded = recordedExchange('chat-plain').response as GigaChatCompletion;
    expect(recorded.model).to.equal('GigaChat:2.0.28.2');
    expect(translateGigaChatResponse(recorded, context)).to.deep.equal({
      id: 'chatcmpl-test123',
      object: 'chat.completion',
      created: 1765875463,
      model: 'GigaChat-2-Max',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello.', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 17, completion_tokens: 3, total_tokens: 20, prompt_tokens_details: { cached_tokens: 2 } },
    });
  });

  it("reports the recorded json_schema answer (object 'chat.completions') as a chat.completion", () => {
    const recorded = recordedExchange('chat-json-schema').response as GigaChatCompletion;
    const result = translateGigaChatResponse(recorded, { ...context, model: 'GigaChat-3-Ultra' });
    expect(result.object).to.equal('chat.completion');
    expect(result.model).to.equal('GigaChat-3-Ultra');
    expect(JSON.parse(result.choices[0]?.message.content ?? '')).to.deep.equal({ answer: 'ok', n: 3 });
  });

  it('counts cached tokens as 0 when GigaChat does not report precached_prompt_tokens', () => {
    const response = completion('x');
    delete response.usage?.precached_prompt_tokens;
    expect(translateGigaChatResponse(response, context).usage?.prompt_tokens_details).to.deep.equal({
      cached_tokens: 0,
    });
  });

  it('leaves usage out when GigaChat sends none', () => {
    const response = completion('x');
    delete response.usage;
    expect(translateGigaChatResponse(response, context)).to.not.have.property('usage');
  });

  it('passes reasoning_content on', () => {
    const response = completion('42');
    response.choices[0]!.message.reasoning_content = 'Думаю…';
    expect(translateGigaChatResponse(response, context).choices[0]?.message.reasoning_content).to.equal('Думаю…');
  });

  describe('function calls', () => {
    it('turns the recorded function call into a tool call named after functions_state_id', () => {
      const recorded = recordedExchange('chat-function-call').response as GigaChatCompletion;
      const choice = translateGigaChatResponse(recorded, context).choices[0];
      expect(choice?.finish_reason).to.equal('tool_calls');
      expect(choice?.message.content).to.equal(null);
      expect(choice?.message.tool_calls).to.have.length(1);
      const call = choice?.message.tool_calls?.[0];
      expect(call?.id).to.equal('call_0199e210-2f13-744c-8fe5-c9a19fe27db7');
      expect(call?.type).to.equal('function');
      if (call?.type !== 'function') throw new Error('expected a function tool call');
      expect(call.function.name).to.equal('weather_forecast');
      expect(call.function.arguments).to.be.a('string');
      expect(JSON.parse(call.function.arguments)).to.deep.equal(recorded.choices[0]?.message.function_call?.arguments);
      expect(JSON.parse(call.function.arguments)).to.deep.equal({ location: 'Манжерок', num_days: 10 });
    });

    it('makes up a call_ id when there is no functions_state_id (the SDK fixture)', () => {
      const first = translateGigaChatResponse(structuredClone(sdkFunctionCall), context).choices[0];
      const second = translateGigaChatResponse(structuredClone(sdkFunctionCall), context).choices[0];
      const id = first?.message.tool_calls?.[0]?.id;
      expect(id).to.match(/^call_[0-9a-f]{24}$/);
      expect(second?.message.tool_calls?.[0]?.id)
        .to.match(/^call_/)
        .and.not.equal(id);
      expect(first?.finish_reason).to.equal('tool_calls');
      const call = first?.message.tool_calls?.[0];
      if (call?.type !== 'function') throw new Error('expected a function tool call');
      expect(call.function).to.deep.equal({ name: 'fc', arguments: '{"location":"Москва","num_days":0}' });
    });

    it('keeps text that comes with a function call', () => {
      const response = structuredClone(sdkFunctionCall);
      response.choices[0]!.message.content = 'Сейчас посмотрю.';
      expect(translateGigaChatResponse(response, context).choices[0]?.message.content).to.equal('Сейчас посмотрю.');
    });
  });

  describe('finish_reason', () => {
    for (const [upstream, expected] of [
      ['stop', 'stop'],
      ['length', 'length'],
      ['blacklist', 'content_filter'],
      ['function_call', 'tool_calls'],
    ] as const) {
      it(`${upstream} → ${expected}`, () => {
        expect(translateGigaChatResponse(completion('text', upstream), context).choices[0]?.finish_reason).to.equal(
          expected,
        );
      });
    }

    it("'error' (invalid function arguments) throws a 502 UpstreamError", () => {
      expect(() => translateGigaChatResponse(completion('', 'error'), context))
        .to.throw(UpstreamError)
        .with.property('status', 502);
      expect(() => translateGigaChatResponse(completion('', 'error'), context))
        .to.throw(UpstreamError)
        .with.property('code', 'upstream_invalid_function_call');
    });

    it('an answer without choices throws a 502 UpstreamError', () => {
      const response = completion('x');
      response.choices = [];
      expect(() => translateGigaChatResponse(response, context))
        .to.throw(UpstreamError)
        .with.property('status', 502);
    });
  });

  describe('stop sequences', () => {
    it('cuts the content before the first stop sequence and reports stop', () => {
      const choice = translateGigaChatResponse(completion('Раз, два. END три ### четыре', 'length'), {
        ...context,
        stop: ['###', 'END'],
      }).choices[0];
      expect(choice?.message.content).to.equal('Раз, два. ');
      expect(choice?.finish_reason).to.equal('stop');
    });

    it('leaves content without a stop sequence whole', () => {
      const choice = translateGigaChatResponse(completion('Раз, два', 'length'), { ...context, stop: ['END'] })
        .choices[0];
      expect(choice?.message.content).to.equal('Раз, два');
      expect(choice?.finish_reason).to.equal('length');
    });

    it('a stop sequence at the very start leaves empty content', () => {
      const choice = translateGigaChatResponse(completion('END of story'), { ...context, stop: ['END'] }).choices[0];
      expect(choice?.message.content).to.equal('');
    });
  });
});
