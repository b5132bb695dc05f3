import { expect } from 'chai';
import { BadRequestError } from '../../../../gateway/openai/errors.ts';
import type { OpenAIChatRequest } from '../../../../gateway/openai/types.ts';
import { SKIP_THOUGHT_SIGNATURE } from '../../../../gateway/providers/gemini/translate-messages.ts';
import {
  checksThoughtSignatures,
  translateGeminiRequest,
} from '../../../../gateway/providers/gemini/translate-request.ts';
import type { GeminiInlineData } from '../../../../gateway/providers/gemini/wire-types.ts';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'weather',
    description: 'Current weather',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { location: { type: 'string', default: 'Moscow' } },
      required: ['location'],
      additionalProperties: false,
    },
    strict: true,
  },
};
const pingTool = { type: 'function' as const, function: { name: 'ping' } };

/** A request with one user message and some fields replaced. */
function request(overrides: Record<string, unknown> = {}): OpenAIChatRequest {
  return {
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: 'Привет' }],
    ...overrides,
  } as OpenAIChatRequest;
}

function translate(overrides: Record<string, unknown> = {}, media: ReadonlyMap<string, GeminiInlineData> = new Map()) {
  return translateGeminiRequest(request(overrides), media);
}

/** The 400 that translating throws. */
function rejection(overrides: Record<string, unknown>): BadRequestError {
  try {
    translate(overrides);
  } catch (error) {
    expect(error).to.be.instanceOf(BadRequestError);
    expect((error as BadRequestError).status).to.equal(400);
    return error as BadRequestError;
  }
  throw new Error('expected a 400');
}

describe('translateGeminiRequest', () => {
  it('a bare request → the REST body: contents and an empty generationConfig', () => {
    expect(translate()).to.deep.equal({
      contents: [{ role: 'user', parts: [{ text: 'Привет' }] }],
      generationConfig: {},
    });
  });

  it('system messages go to systemInstruction at the top of the body', () => {
    const body = translate({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(body.systemInstruction).to.deep.equal({ parts: [{ text: 'Be brief.' }] });
    expect(body.contents).to.deep.equal([{ role: 'user', parts: [{ text: 'Hi' }] }]);
  });

  it('passes the media map on to the messages', () => {
    const url = 'https://example.com/a.png';
    const body = translate(
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] },
      new Map([[url, { mimeType: 'image/png', data: 'AAAA' }]]),
    );
    expect(body.contents[0]?.parts).to.deep.equal([{ inlineData: { mimeType: 'image/png', data: 'AAAA' } }]);
  });

  describe('sampling and limits', () => {
    it('renames the scalar parameters', () => {
      const body = translate({
        temperature: 0.7,
        top_p: 0.9,
        max_tokens: 100,
        n: 2,
        seed: 42,
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
        stop: ['END', 'STOP'],
      });
      expect(body.generationConfig).to.deep.equal({
        temperature: 0.7,
        topP: 0.9,
        maxOutputTokens: 100,
        candidateCount: 2,
        seed: 42,
        presencePenalty: 0.5,
        frequencyPenalty: -0.5,
        stopSequences: ['END', 'STOP'],
      });
    });

    it('keeps meaningful zeros (temperature 0, top_p 0, seed 0) and leaves out zero penalties, which many models refuse', () => {
      const body = translate({ temperature: 0, top_p: 0, seed: 0, presence_penalty: 0, frequency_penalty: 0 });
      expect(body.generationConfig).to.deep.equal({ temperature: 0, topP: 0, seed: 0 });
    });

    it('leaves out nulls', () => {
      const body = translate({
        temperature: null,
        top_p: null,
        max_tokens: null,
        max_completion_tokens: null,
        n: null,
        seed: null,
        presence_penalty: null,
        frequency_penalty: null,
        stop: null,
        reasoning_effort: null,
      });
      expect(body.generationConfig).to.deep.equal({});
    });

    it('max_completion_tokens wins over max_tokens', () => {
      expect(translate({ max_tokens: 100, max_completion_tokens: 50 }).generationConfig.maxOutputTokens).to.equal(50);
      expect(translate({ max_tokens: 100, max_completion_tokens: null }).generationConfig.maxOutputTokens).to.equal(
        100,
      );
    });

    it('n 1 sends no candidateCount', () => {
      expect(translate({ n: 1 }).generationConfig).to.not.have.property('candidateCount');
    });

    it('a single stop string becomes a list; empty stop strings are dropped', () => {
      expect(translate({ stop: 'END' }).generationConfig.stopSequences).to.deep.equal(['END']);
      expect(translate({ stop: ['', 'END', ''] }).generationConfig.stopSequences).to.deep.equal(['END']);
      expect(translate({ stop: '' }).generationConfig).to.not.have.property('stopSequences');
      expect(translate({ stop: [] }).generationConfig).to.not.have.property('stopSequences');
    });
  });

  describe('reasoning_effort', () => {
    for (const [model, effort, thinkingConfig] of [
      ['gemini-3-pro-preview', 'medium', { thinkingLevel: 'HIGH' }],
      ['gemini-3-pro-preview', 'low', { thinkingLevel: 'LOW' }],
      ['gemini-3-flash-preview', 'medium', { thinkingLevel: 'MEDIUM' }],
      ['gemini-3-flash-preview', 'none', { thinkingLevel: 'LOW' }],
      ['gemini-2.5-flash', 'none', { thinkingBudget: 0 }],
      ['gemini-2.5-flash', 'high', { thinkingBudget: 24_576 }],
      ['gemini-2.5-pro', 'none', { thinkingBudget: 128 }],
      ['gemini-2.5-pro', 'low', { thinkingBudget: 1024 }],
    ] as const) {
      it(`${model}, ${effort} → ${JSON.stringify(thinkingConfig)}`, () => {
        expect(translate({ model, reasoning_effort: effort }).generationConfig.thinkingConfig).to.deep.equal(
          thinkingConfig,
        );
      });
    }

    it('models without a thinking switch get no thinkingConfig', () => {
      expect(translate({ model: 'gemini-2.0-flash', reasoning_effort: 'high' }).generationConfig).to.not.have.property(
        'thinkingConfig',
      );
      expect(translate({ model: 'gemma-3-27b-it', reasoning_effort: 'none' }).generationConfig).to.not.have.property(
        'thinkingConfig',
      );
    });

    it('no reasoning_effort → no thinkingConfig (the model default)', () => {
      expect(translate({ model: 'gemini-3-pro-preview' }).generationConfig).to.not.have.property('thinkingConfig');
    });
  });

  describe('thought signatures by model family', () => {
    const messages = [
      { role: 'user', content: 'w?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '18' },
    ];

    it('Gemini 3 checks them: the sentinel goes on an unsigned call', () => {
      expect(checksThoughtSignatures('gemini-3-pro-preview')).to.equal(true);
      expect(checksThoughtSignatures('Gemini-3.7-flash')).to.equal(true);
      const body = translate({ model: 'gemini-3-flash-preview', messages });
      expect(body.contents[1]?.parts?.[0]?.thoughtSignature).to.equal(SKIP_THOUGHT_SIGNATURE);
    });

    it('Gemini 2.5 does not: no sentinel', () => {
      expect(checksThoughtSignatures('gemini-2.5-pro')).to.equal(false);
      expect(checksThoughtSignatures('gemma-3-27b-it')).to.equal(false);
      const body = translate({ model: 'gemini-2.5-flash', messages });
      expect(body.contents[1]?.parts?.[0]).to.not.have.property('thoughtSignature');
    });
  });

  describe('tools', () => {
    it('become one functionDeclarations entry with cleaned parametersJsonSchema', () => {
      const body = translate({ tools: [weatherTool, pingTool] });
      expect(body.tools).to.deep.equal([
        {
          functionDeclarations: [
            {
              name: 'weather',
              description: 'Current weather',
              parametersJsonSchema: {
                type: 'object',
                properties: { location: { type: 'string' } },
                required: ['location'],
                additionalProperties: false,
              },
            },
            { name: 'ping' },
          ],
        },
      ]);
      expect(body).to.not.have.property('toolConfig');
    });

    it('a zero-argument tool declared with an empty object schema gets no parameters (Gemini refuses empty objects)', () => {
      const tool = { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } };
      expect(translate({ tools: [tool] }).tools).to.deep.equal([{ functionDeclarations: [{ name: 'now' }] }]);
    });

    it('an empty tools list sends no tools', () => {
      expect(translate({ tools: [], tool_choice: 'auto' }).generationConfig).to.deep.equal({});
    });

    it('legacy functions join the declarations', () => {
      const body = translate({
        functions: [
          {
            name: 'time',
            description: 'Clock',
            parameters: { type: 'object', properties: { tz: { type: 'string' } } },
          },
        ],
      });
      expect(body.tools).to.deep.equal([
        {
          functionDeclarations: [
            {
              name: 'time',
              description: 'Clock',
              parametersJsonSchema: { type: 'object', properties: { tz: { type: 'string' } } },
            },
          ],
        },
      ]);
    });

    it('a custom tool → 400 naming tools[i].type', () => {
      const error = rejection({ tools: [weatherTool, { type: 'custom', custom: { name: 'grammar' } }] });
      expect(error.param).to.equal('tools[1].type');
      expect(error.code).to.equal('unsupported_parameter');
    });
  });

  describe('tool_choice', () => {
    for (const [choice, toolConfig] of [
      ['none', { functionCallingConfig: { mode: 'NONE' } }],
      ['required', { functionCallingConfig: { mode: 'ANY' } }],
      [
        { type: 'function', function: { name: 'ping' } },
        { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['ping'] } },
      ],
    ] as const) {
      it(`${JSON.stringify(choice)} → ${JSON.stringify(toolConfig)}`, () => {
        expect(translate({ tools: [weatherTool, pingTool], tool_choice: choice }).toolConfig).to.deep.equal(toolConfig);
      });
    }

    it('auto sends no toolConfig (AUTO is the default)', () => {
      expect(translate({ tools: [weatherTool], tool_choice: 'auto' })).to.not.have.property('toolConfig');
    });

    it('a named function that is not among the tools → 400 naming tool_choice.function.name', () => {
      const error = rejection({ tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'nope' } } });
      expect(error.param).to.equal('tool_choice.function.name');
      expect(error.message).to.contain("'nope'");
    });

    it('allowed_tools → 400 naming tool_choice.type', () => {
      const error = rejection({
        tools: [weatherTool],
        tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } },
      });
      expect(error.param).to.equal('tool_choice.type');
      expect(error.code).to.equal('unsupported_parameter');
    });

    describe('legacy function_call', () => {
      const functions = [{ name: 'time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } }];

      it("'none' → NONE", () => {
        expect(translate({ functions, function_call: 'none' }).toolConfig).to.deep.equal({
          functionCallingConfig: { mode: 'NONE' },
        });
      });

      it("'auto' → no toolConfig", () => {
        expect(translate({ functions, function_call: 'auto' })).to.not.have.property('toolConfig');
      });

      it('{name} → ANY with that name', () => {
        expect(translate({ functions, function_call: { name: 'time' } }).toolConfig).to.deep.equal({
          functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['time'] },
        });
      });

      it('{name} not among the functions → 400', () => {
        expect(rejection({ functions, function_call: { name: 'date' } }).param).to.equal('tool_choice.function.name');
      });

      it('tool_choice wins over function_call', () => {
        expect(translate({ functions, function_call: 'none', tool_choice: 'required' }).toolConfig).to.deep.equal({
          functionCallingConfig: { mode: 'ANY' },
        });
      });
    });
  });

  describe('response_format', () => {
    it('text sends nothing', () => {
      expect(translate({ response_format: { type: 'text' } }).generationConfig).to.deep.equal({});
    });

    it('json_object → responseMimeType application/json', () => {
      expect(translate({ response_format: { type: 'json_object' } }).generationConfig).to.deep.equal({
        responseMimeType: 'application/json',
      });
    });

    it('json_schema → application/json and the cleaned schema as responseJsonSchema', () => {
      const body = translate({
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'answer',
            strict: true,
            schema: {
              $schema: 'http://json-schema.org/draft-07/schema#',
              type: 'object',
              properties: { answer: { type: 'string' }, n: { type: 'integer', exclusiveMinimum: 0 } },
              required: ['answer', 'n'],
              additionalProperties: false,
              $defs: { Unused: { type: 'string', default: 'x' } },
            },
          },
        },
      });
      expect(body.generationConfig).to.deep.equal({
        responseMimeType: 'application/json',
        responseJsonSchema: {
          $defs: { Unused: { type: 'string' } },
          type: 'object',
          properties: { answer: { type: 'string' }, n: { type: 'integer', minimum: 0 } },
          required: ['answer', 'n'],
          additionalProperties: false,
        },
      });
    });

    it('json_schema without a schema → only the MIME type', () => {
      expect(
        translate({ response_format: { type: 'json_schema', json_schema: { name: 'anything' } } }).generationConfig,
      ).to.deep.equal({ responseMimeType: 'application/json' });
    });
  });

  describe('rejected parameters', () => {
    for (const [param, value] of [
      ['logprobs', true],
      ['top_logprobs', 3],
      ['logit_bias', { '50256': -100 }],
      ['audio', { voice: 'alloy', format: 'mp3' }],
      ['prediction', { type: 'content', content: 'x' }],
      ['web_search_options', {}],
      ['repetition_penalty', 1.1],
      ['profanity_check', false],
      ['update_interval', 0.5],
    ] as const) {
      it(`${param}: ${JSON.stringify(value)} → 400 unsupported_parameter naming ${param}`, () => {
        const error = rejection({ [param]: value });
        expect(error.param).to.equal(param);
        expect(error.code).to.equal('unsupported_parameter');
      });
    }

    it('the GigaChat extras are named as such', () => {
      expect(rejection({ repetition_penalty: 1.1 }).message).to.contain('GigaChat');
    });

    it('modalities with audio → 400 naming modalities', () => {
      expect(rejection({ modalities: ['text', 'audio'] }).param).to.equal('modalities');
    });

    it('accepts the neutral values: logprobs false, top_logprobs 0, empty logit_bias, text modality', () => {
      expect(
        translate({ logprobs: false, top_logprobs: 0, logit_bias: {}, modalities: ['text'], prediction: null })
          .generationConfig,
      ).to.deep.equal({});
    });

    it('ignores parameters Gemini has no use for (user, store, metadata, parallel_tool_calls, stream_options)', () => {
      const body = translate({
        user: 'u1',
        store: false,
        metadata: { a: 'b' },
        parallel_tool_calls: false,
        service_tier: 'auto',
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(body.generationConfig).to.deep.equal({});
    });
  });
});
