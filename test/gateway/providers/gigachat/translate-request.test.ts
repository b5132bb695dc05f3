import { expect } from 'chai';
import { BadRequestError } from '../../../../gateway/openai/errors.ts';
import type { OpenAIChatRequest, OpenAIMessage } from '../../../../gateway/openai/types.ts';
import { translateGigaChatMessages } from '../../../../gateway/providers/gigachat/translate-messages.ts';
import { translateGigaChatRequest } from '../../../../gateway/providers/gigachat/translate-request.ts';
import { CASSETTE_REQUESTS, recordedExchange } from '../../../helpers/cassettes.ts';

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const weatherTool = CASSETTE_REQUESTS['chat-function-call'].tools[0]!;

const timeTool = { type: 'function' as const, function: { name: 'current_time', parameters: { type: 'object' } } };

/** A request with one user message and some fields replaced. */
function request(overrides: Record<string, unknown> = {}): OpenAIChatRequest {
  return { model: 'GigaChat', messages: [{ role: 'user', content: 'Привет' }], ...overrides } as OpenAIChatRequest;
}

/** The 400 that translating `input` throws. */
function rejection(translate: () => unknown): BadRequestError {
  try {
    translate();
  } catch (error) {
    expect(error).to.be.instanceOf(BadRequestError);
    expect((error as BadRequestError).status).to.equal(400);
    return error as BadRequestError;
  }
  throw new Error('expected a 400');
}

function toolCall(id: string, name: string, args: string) {
  return { id, type: 'function' as const, function: { name, arguments: args } };
}

describe('translateGigaChatRequest', () => {
  describe('reproduces the recorded GigaChat requests', () => {
    it('chat-plain', () => {
      const plan = translateGigaChatRequest(CASSETTE_REQUESTS['chat-plain']);
      expect(plan.body).to.deep.equal(recordedExchange('chat-plain').request);
      expect(plan.headers).to.deep.equal({});
      expect(plan.stop).to.deep.equal([]);
    });

    it('chat-stream (the provider adds stream: true; the translator does not)', () => {
      const recorded = recordedExchange('chat-stream').request;
      const plan = translateGigaChatRequest(CASSETTE_REQUESTS['chat-stream']);
      expect(plan.body).to.not.have.property('stream');
      const { stream, ...withoutStream } = recorded;
      expect(stream).to.equal(true);
      expect(plan.body).to.deep.equal(withoutStream);
      // What index.ts sends.
      expect({ ...plan.body, stream: true }).to.deep.equal(recorded);
    });

    for (const name of ['chat-function-call', 'chat-json-schema', 'model-not-found'] as const) {
      it(name, () => {
        expect(translateGigaChatRequest(CASSETTE_REQUESTS[name]).body).to.deep.equal(recordedExchange(name).request);
      });
    }
  });

  describe('sampling and limits', () => {
    it('temperature 0 becomes top_p 0 without temperature', () => {
      const { body } = translateGigaChatRequest(request({ temperature: 0, top_p: 0.9 }));
      expect(body.top_p).to.equal(0);
      expect(body).to.not.have.property('temperature');
    });

    it('passes temperature 0.7 and top_p 0.9', () => {
      const { body } = translateGigaChatRequest(request({ temperature: 0.7, top_p: 0.9 }));
      expect(body.temperature).to.equal(0.7);
      expect(body.top_p).to.equal(0.9);
    });

    it('leaves out null sampling options', () => {
      const { body } = translateGigaChatRequest(request({ temperature: null, top_p: null, max_tokens: null }));
      expect(body).to.deep.equal({ model: 'GigaChat', messages: [{ role: 'user', content: 'Привет' }] });
    });

    it('max_completion_tokens wins over max_tokens', () => {
      const { body } = translateGigaChatRequest(request({ max_tokens: 100, max_completion_tokens: 50 }));
      expect(body.max_tokens).to.equal(50);
    });

    it('max_tokens alone passes', () => {
      const { body } = translateGigaChatRequest(request({ max_tokens: 100 }));
      expect(body.max_tokens).to.equal(100);
    });

    it('passes the GigaChat extras', () => {
      const { body } = translateGigaChatRequest(
        request({ repetition_penalty: 1.2, profanity_check: true, update_interval: 0.3 }),
      );
      expect(body).to.include({ repetition_penalty: 1.2, profanity_check: true, update_interval: 0.3 });
    });

    for (const [effort, expected] of [
      ['minimal', 'low'],
      ['low', 'low'],
      ['medium', 'medium'],
      ['high', 'high'],
      ['xhigh', 'high'],
      ['max', 'high'],
      ['none', undefined],
    ] as const) {
      it(`reasoning_effort ${effort} → ${expected ?? 'absent'}`, () => {
        const { body } = translateGigaChatRequest(request({ reasoning_effort: effort }));
        expect(body.reasoning_effort).to.equal(expected);
        if (expected === undefined) expect(body).to.not.have.property('reasoning_effort');
      });
    }
  });

  describe('unsupported parameters', () => {
    for (const [param, value] of [
      ['n', 2],
      ['logprobs', true],
      ['top_logprobs', 3],
      ['logit_bias', { '50256': -100 }],
      ['presence_penalty', 0.5],
      ['frequency_penalty', -1],
      ['audio', { voice: 'alloy', format: 'mp3' }],
      ['web_search_options', {}],
    ] as const) {
      it(`${param}: ${JSON.stringify(value)} → 400 naming ${param}`, () => {
        const error = rejection(() => translateGigaChatRequest(request({ [param]: value })));
        expect(error.param).to.equal(param);
        expect(error.code).to.equal('unsupported_parameter');
      });
    }

    it('accepts the neutral values n 1, logprobs false, empty logit_bias, penalties 0', () => {
      const { body } = translateGigaChatRequest(
        request({ n: 1, logprobs: false, logit_bias: {}, presence_penalty: 0, frequency_penalty: 0, top_logprobs: 0 }),
      );
      expect(body).to.deep.equal({ model: 'GigaChat', messages: [{ role: 'user', content: 'Привет' }] });
    });

    it('modalities with audio → 400 naming modalities', () => {
      const error = rejection(() => translateGigaChatRequest(request({ modalities: ['text', 'audio'] })));
      expect(error.param).to.equal('modalities');
    });

    it('response_format json_object → 400', () => {
      const error = rejection(() => translateGigaChatRequest(request({ response_format: { type: 'json_object' } })));
      expect(error.param).to.equal('response_format');
      expect(error.message).to.contain('json_schema');
    });

    it('response_format text is accepted and sends nothing', () => {
      const { body } = translateGigaChatRequest(request({ response_format: { type: 'text' } }));
      expect(body).to.not.have.property('response_format');
    });

    it('a custom tool → 400 naming tools[i].type', () => {
      const tools = [weatherTool, { type: 'custom', custom: { name: 'grammar' } }];
      const error = rejection(() => translateGigaChatRequest(request({ tools })));
      expect(error.param).to.equal('tools[1].type');
    });

    it('tools and legacy functions together → 400', () => {
      const error = rejection(() =>
        translateGigaChatRequest(request({ tools: [weatherTool], functions: [timeTool.function] })),
      );
      expect(error.param).to.equal('functions');
    });
  });

  describe('tools and tool_choice', () => {
    it('normalises the tool parameters and keeps name and description', () => {
      const tools = [
        {
          type: 'function',
          function: {
            name: 'lookup',
            parameters: { type: 'object', properties: { id: { type: ['string', 'null'], format: 'uuid' } } },
          },
        },
      ];
      const { body } = translateGigaChatRequest(request({ tools }));
      expect(body.functions).to.deep.equal([
        { name: 'lookup', parameters: { type: 'object', properties: { id: { type: 'string' } } } },
      ]);
    });

    it('a tool without parameters gets an empty object schema', () => {
      const { body } = translateGigaChatRequest(request({ tools: [{ type: 'function', function: { name: 'ping' } }] }));
      expect(body.functions).to.deep.equal([{ name: 'ping', parameters: { type: 'object', properties: {} } }]);
    });

    it('tool_choice auto sends the functions without function_call', () => {
      const { body } = translateGigaChatRequest(request({ tools: [weatherTool, timeTool], tool_choice: 'auto' }));
      expect(body.functions?.map((definition) => definition.name)).to.deep.equal(['weather_forecast', 'current_time']);
      expect(body).to.not.have.property('function_call');
    });

    it("tool_choice none → function_call 'none'", () => {
      const { body } = translateGigaChatRequest(request({ tools: [weatherTool], tool_choice: 'none' }));
      expect(body.function_call).to.equal('none');
    });

    it('a named tool_choice → function_call {name}', () => {
      const { body } = translateGigaChatRequest(
        request({
          tools: [weatherTool, timeTool],
          tool_choice: { type: 'function', function: { name: 'current_time' } },
        }),
      );
      expect(body.function_call).to.deep.equal({ name: 'current_time' });
    });

    it('a named tool_choice that is not among the tools → 400', () => {
      const error = rejection(() =>
        translateGigaChatRequest(
          request({ tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'nope' } } }),
        ),
      );
      expect(error.param).to.equal('tool_choice');
      expect(error.message).to.contain("'nope'");
    });

    it('tool_choice required with one tool forces that tool', () => {
      const { body } = translateGigaChatRequest(request({ tools: [weatherTool], tool_choice: 'required' }));
      expect(body.function_call).to.deep.equal({ name: 'weather_forecast' });
    });

    it('tool_choice required with two tools → 400', () => {
      const error = rejection(() =>
        translateGigaChatRequest(request({ tools: [weatherTool, timeTool], tool_choice: 'required' })),
      );
      expect(error.param).to.equal('tool_choice');
      expect(error.code).to.equal('unsupported_parameter');
    });

    it('tool_choice allowed_tools → 400', () => {
      const toolChoice = { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } };
      const error = rejection(() =>
        translateGigaChatRequest(request({ tools: [weatherTool], tool_choice: toolChoice })),
      );
      expect(error.param).to.equal('tool_choice');
    });

    it('legacy functions and function_call {name} pass through', () => {
      const { body } = translateGigaChatRequest(
        request({ functions: [weatherTool.function, timeTool.function], function_call: { name: 'weather_forecast' } }),
      );
      expect(body.functions).to.deep.equal([
        recordedExchange('chat-function-call').request.functions[0],
        { name: 'current_time', parameters: { type: 'object', properties: {} } },
      ]);
      expect(body.function_call).to.deep.equal({ name: 'weather_forecast' });
    });

    it('a legacy function_call naming an unknown function → 400 naming function_call', () => {
      const error = rejection(() =>
        translateGigaChatRequest(request({ functions: [weatherTool.function], function_call: { name: 'nope' } })),
      );
      expect(error.param).to.equal('function_call');
    });
  });

  describe('stop and the prompt cache', () => {
    it('a stop string becomes a one-item plan.stop', () => {
      expect(translateGigaChatRequest(request({ stop: 'END' })).stop).to.deep.equal(['END']);
    });

    it('a stop array is kept, without empty strings', () => {
      expect(translateGigaChatRequest(request({ stop: ['END', '', '###'] })).stop).to.deep.equal(['END', '###']);
    });

    it('stop null gives no stop sequences and nothing in the body', () => {
      const plan = translateGigaChatRequest(request({ stop: null }));
      expect(plan.stop).to.deep.equal([]);
      expect(plan.body).to.not.have.property('stop');
    });

    it('prompt_cache_key → a stable UUID-shaped x-session-id header', () => {
      const first = translateGigaChatRequest(request({ prompt_cache_key: 'user-42/chat-7' })).headers;
      const again = translateGigaChatRequest(request({ prompt_cache_key: 'user-42/chat-7' })).headers;
      const other = translateGigaChatRequest(request({ prompt_cache_key: 'user-43/chat-7' })).headers;
      expect(first['x-session-id']).to.match(UUID_SHAPE);
      expect(again['x-session-id']).to.equal(first['x-session-id']);
      expect(other['x-session-id']).to.match(UUID_SHAPE);
      expect(other['x-session-id']).to.not.equal(first['x-session-id']);
      expect(first['x-session-id']).to.not.contain('user-42');
    });

    it('no prompt_cache_key, no header', () => {
      expect(translateGigaChatRequest(request()).headers).to.deep.equal({});
      expect(translateGigaChatRequest(request({ prompt_cache_key: '' })).headers).to.deep.equal({});
    });
  });
});

describe('translateGigaChatMessages', () => {
  const translate = (messages: unknown[]) => translateGigaChatMessages(messages as OpenAIMessage[]);

  describe('system messages', () => {
    it('merges leading system and developer messages into one system message', () => {
      expect(
        translate([
          { role: 'system', content: 'Ты помощник.' },
          { role: 'developer', content: [{ type: 'text', text: 'Отвечай кратко.' }] },
          { role: 'user', content: 'Привет' },
        ]),
      ).to.deep.equal([
        { role: 'system', content: 'Ты помощник.\n\nОтвечай кратко.' },
        { role: 'user', content: 'Привет' },
      ]);
    });

    it('demotes a later system message to user and merges it with the adjacent user messages', () => {
      expect(
        translate([
          { role: 'system', content: 'S1' },
          { role: 'user', content: 'U1' },
          { role: 'assistant', content: 'A1' },
          { role: 'user', content: 'U2' },
          { role: 'system', content: 'S2' },
          { role: 'user', content: 'U3' },
        ]),
      ).to.deep.equal([
        { role: 'system', content: 'S1' },
        { role: 'user', content: 'U1' },
        { role: 'assistant', content: 'A1' },
        { role: 'user', content: 'U2\n\nS2\n\nU3' },
      ]);
    });
  });

  describe('content', () => {
    it('joins text parts with a newline', () => {
      expect(
        translate([
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Первая строка' },
              { type: 'text', text: 'Вторая строка' },
            ],
          },
        ]),
      ).to.deep.equal([{ role: 'user', content: 'Первая строка\nВторая строка' }]);
    });

    it('takes assistant refusal parts as text', () => {
      expect(
        translate([
          { role: 'user', content: 'x' },
          { role: 'assistant', content: [{ type: 'refusal', refusal: 'Не могу.' }] },
        ]),
      ).to.deep.equal([
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'Не могу.' },
      ]);
    });

    it("puts the ids attachments.ts found for a user message's parts into its attachments; two messages with files stay apart", () => {
      const messages: OpenAIMessage[] = [
        { role: 'system', content: 'S' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Что здесь?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        { role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] },
        { role: 'user', content: 'И ещё' },
      ];
      const ids = new Map([
        ['1:1', 'gigachat-file-a'],
        ['2:0', 'gigachat-file-b'],
      ]);
      expect(translateGigaChatMessages(messages, ids)).to.deep.equal([
        { role: 'system', content: 'S' },
        { role: 'user', content: 'Что здесь?', attachments: ['gigachat-file-a'] },
        { role: 'user', content: 'И ещё', attachments: ['gigachat-file-b'] },
      ]);
    });
  });

  describe('tool calls and results', () => {
    it('splits two tool calls into call/result pairs in call order, with results given in reverse order', () => {
      expect(
        translate([
          { role: 'user', content: 'Погода и время в Москве?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              toolCall('call_a', 'weather_forecast', '{"location":"Москва","num_days":1}'),
              toolCall('call_b', 'current_time', '{"city":"Москва"}'),
            ],
          },
          { role: 'tool', tool_call_id: 'call_b', content: '{"time":"12:00"}' },
          { role: 'tool', tool_call_id: 'call_a', content: '{"temp":-3}' },
          { role: 'assistant', content: 'В Москве −3 и полдень.' },
        ]),
      ).to.deep.equal([
        { role: 'user', content: 'Погода и время в Москве?' },
        {
          role: 'assistant',
          content: '',
          function_call: { name: 'weather_forecast', arguments: { location: 'Москва', num_days: 1 } },
        },
        { role: 'function', name: 'weather_forecast', content: '{"temp":-3}' },
        { role: 'assistant', content: '', function_call: { name: 'current_time', arguments: { city: 'Москва' } } },
        { role: 'function', name: 'current_time', content: '{"time":"12:00"}' },
        { role: 'assistant', content: 'В Москве −3 и полдень.' },
      ]);
    });

    it('keeps the assistant text on the first call only', () => {
      const output = translate([
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: 'Сейчас узнаю.',
          tool_calls: [toolCall('call_a', 'f', '{}'), toolCall('call_b', 'g', '')],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{}' },
        { role: 'tool', tool_call_id: 'call_b', content: '{}' },
      ]);
      expect(output.filter((message) => message.role === 'assistant')).to.deep.equal([
        { role: 'assistant', content: 'Сейчас узнаю.', function_call: { name: 'f', arguments: {} } },
        { role: 'assistant', content: '', function_call: { name: 'g', arguments: {} } },
      ]);
    });

    for (const [label, result, expected] of [
      ['plain text', 'Солнечно', '{"result":"Солнечно"}'],
      ['a JSON array', '[1,2,3]', '{"result":[1,2,3]}'],
      ['a number', '42', '{"result":42}'],
      ['a JSON string', '"ok"', '{"result":"ok"}'],
      ['null', 'null', '{"result":null}'],
      ['an object (kept as is)', '{ "temp": 5 }', '{ "temp": 5 }'],
    ] as const) {
      it(`a tool result that is ${label} → ${expected}`, () => {
        const output = translate([
          { role: 'user', content: 'q' },
          { role: 'assistant', content: null, tool_calls: [toolCall('call_1', 'f', '{}')] },
          { role: 'tool', tool_call_id: 'call_1', content: result },
        ]);
        expect(output.at(-1)).to.deep.equal({ role: 'function', name: 'f', content: expected });
      });
    }

    it('joins a tool result given as text parts before wrapping it', () => {
      const output = translate([
        { role: 'user', content: 'q' },
        { role: 'assistant', content: null, tool_calls: [toolCall('call_1', 'f', '{}')] },
        {
          role: 'tool',
          tool_call_id: 'call_1',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ]);
      expect(output.at(-1)?.content).to.equal('{"result":"a\\nb"}');
    });

    it('invalid JSON arguments → 400 naming messages[i].tool_calls[j].function.arguments', () => {
      const error = rejection(() =>
        translate([
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [toolCall('call_a', 'f', '{}'), toolCall('call_b', 'g', '{"city": ')],
          },
          { role: 'tool', tool_call_id: 'call_a', content: '{}' },
          { role: 'tool', tool_call_id: 'call_b', content: '{}' },
        ]),
      );
      expect(error.param).to.equal('messages[1].tool_calls[1].function.arguments');
    });

    it('arguments that are JSON but not an object → 400', () => {
      const error = rejection(() =>
        translate([
          { role: 'user', content: 'q' },
          { role: 'assistant', content: null, tool_calls: [toolCall('call_a', 'f', '[1]')] },
          { role: 'tool', tool_call_id: 'call_a', content: '{}' },
        ]),
      );
      expect(error.param).to.equal('messages[1].tool_calls[0].function.arguments');
    });

    it('a tool message whose tool_call_id no assistant message made → 400', () => {
      const error = rejection(() =>
        translate([
          { role: 'user', content: 'q' },
          { role: 'tool', tool_call_id: 'call_ghost', content: '{}' },
        ]),
      );
      expect(error.param).to.equal('messages[1].tool_call_id');
      expect(error.message).to.contain('call_ghost');
    });

    it('a tool message after a tool-calling assistant message, answering another id → 400', () => {
      const error = rejection(() =>
        translate([
          { role: 'user', content: 'q' },
          { role: 'assistant', content: null, tool_calls: [toolCall('call_a', 'f', '{}')] },
          { role: 'tool', tool_call_id: 'call_a', content: '{}' },
          { role: 'tool', tool_call_id: 'call_ghost', content: '{}' },
        ]),
      );
      expect(error.param).to.equal('messages[3].tool_call_id');
    });

    it('an assistant tool call without a result → 400 naming the call', () => {
      const error = rejection(() =>
        translate([
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [toolCall('call_a', 'f', '{}'), toolCall('call_b', 'g', '{}')],
          },
          { role: 'tool', tool_call_id: 'call_a', content: '{}' },
          { role: 'user', content: 'ну?' },
        ]),
      );
      expect(error.param).to.equal('messages[1].tool_calls[1]');
      expect(error.message).to.contain('call_b');
    });

    it('legacy assistant function_call and function result messages', () => {
      expect(
        translate([
          { role: 'user', content: 'q' },
          { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{"x":1}' } },
          { role: 'function', name: 'f', content: 'done' },
        ]),
      ).to.deep.equal([
        { role: 'user', content: 'q' },
        { role: 'assistant', content: '', function_call: { name: 'f', arguments: { x: 1 } } },
        { role: 'function', name: 'f', content: '{"result":"done"}' },
      ]);
    });
  });
});

describe('translateGigaChatRequest: requests that would otherwise be silently wrong', () => {
  const user = { role: 'user' as const, content: 'Привет' };
  const rejects = (request: Record<string, unknown>, param: string) => {
    expect(() => translateGigaChatRequest({ model: 'GigaChat', messages: [user], ...request } as never))
      .to.throw(BadRequestError)
      .with.property('param', param);
  };

  it('a tool_choice that asks for a call with no tools → 400', () => {
    rejects({ tool_choice: 'required' }, 'tool_choice');
    rejects({ tool_choice: { type: 'function', function: { name: 'f' } } }, 'tool_choice');
    rejects({ function_call: { name: 'f' } }, 'function_call');
    for (const choice of ['auto', 'none']) {
      expect(
        translateGigaChatRequest({ model: 'GigaChat', messages: [user], tool_choice: choice } as never).body,
      ).to.not.have.property('function_call');
    }
  });

  it('a parameters or output schema whose root is not an object → 400', () => {
    rejects(
      { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'string' } } }] },
      'tools[0].function.parameters',
    );
    rejects({ functions: [{ name: 'f', parameters: { type: 'array', items: {} } }] }, 'functions[0].parameters');
    rejects(
      { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string' } } } },
      'response_format.json_schema.schema',
    );
  });

  it('a tool message that does not directly follow its call (a second answer later on) → 400', () => {
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{}' } };
    expect(() =>
      translateGigaChatRequest({
        model: 'GigaChat',
        messages: [
          user,
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: 'call_1', content: '1' },
          { role: 'user', content: 'ещё раз' },
          { role: 'tool', tool_call_id: 'call_1', content: '2' },
        ],
      }),
    )
      .to.throw(BadRequestError)
      .with.property('param', 'messages[4].tool_call_id');
  });

  it('two tool messages answering the same call → 400 at the second', () => {
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{}' } };
    expect(() =>
      translateGigaChatRequest({
        model: 'GigaChat',
        messages: [
          user,
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: 'call_1', content: '1' },
          { role: 'tool', tool_call_id: 'call_1', content: '2' },
        ],
      }),
    )
      .to.throw(BadRequestError)
      .with.property('param', 'messages[3].tool_call_id');
  });
});
