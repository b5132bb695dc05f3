import { expect } from 'chai';
import { BadRequestError, UpstreamError } from '../../../gateway/openai/errors.ts';
import { validateResponsesRequest } from '../../../gateway/openai/responses-request.schema.ts';
import {
  chatParamToResponses,
  type HistoryItem,
  renameChatParam,
  responsesToChat,
} from '../../../gateway/responses/responses-to-chat.ts';

/** A Responses body through the real validator (string input → one user message), then translated. */
function translate(body: Record<string, unknown>, history: HistoryItem[] = [], stream = false) {
  return responsesToChat(validateResponsesRequest({ model: 'GigaChat-2-Max', ...body }), history, stream);
}

/** The 400 a translation throws. */
function refusal(body: Record<string, unknown>, history: HistoryItem[] = []): BadRequestError {
  try {
    translate(body, history);
  } catch (error) {
    expect(error).to.be.instanceOf(BadRequestError);
    return error as BadRequestError;
  }
  throw new Error('expected the translation to refuse');
}

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

describe('responsesToChat (Responses request → chat request)', () => {
  describe('items', () => {
    it('puts instructions first as a system message and a string input as one user message', () => {
      const { request, origins } = translate({ instructions: 'Кратко.', input: 'Привет' });
      expect(request).to.deep.equal({
        model: 'GigaChat-2-Max',
        messages: [
          { role: 'system', content: 'Кратко.' },
          { role: 'user', content: 'Привет' },
        ],
      });
      expect(origins).to.deep.equal(['instructions', 'input[0]']);
    });

    it('leaves out empty or null instructions', () => {
      for (const instructions of ['', null]) {
        expect(translate({ instructions, input: 'x' }).request.messages).to.deep.equal([
          { role: 'user', content: 'x' },
        ]);
      }
    });

    it('turns user content parts into chat parts: text, image URL (detail kept), image and file by id, file data', () => {
      const { request } = translate({
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'Что тут?' },
              { type: 'input_image', image_url: PNG, detail: 'high' },
              { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'original' },
              { type: 'input_image', file_id: 'file-img' },
              { type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' },
              { type: 'input_file', file_id: 'file-doc' },
            ],
          },
        ],
      });
      expect(request.messages).to.deep.equal([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Что тут?' },
            { type: 'image_url', image_url: { url: PNG, detail: 'high' } },
            // Chat has no `original` detail; the provider decides, as with auto.
            { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'auto' } },
            { type: 'file', file: { file_id: 'file-img' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
            { type: 'file', file: { file_id: 'file-doc' } },
          ],
        },
      ]);
    });

    it('keeps system and developer messages in place, with their text parts', () => {
      const { request } = translate({
        input: [
          { role: 'developer', content: [{ type: 'input_text', text: 'Markdown.' }] },
          { role: 'user', content: 'x' },
          { type: 'message', role: 'system', content: 'Будь вежлив.' },
        ],
      });
      expect(request.messages).to.deep.equal([
        { role: 'developer', content: [{ type: 'text', text: 'Markdown.' }] },
        { role: 'user', content: 'x' },
        { role: 'system', content: 'Будь вежлив.' },
      ]);
    });

    it('joins an assistant message’s output_text and refusal parts into its text', () => {
      const { request } = translate({
        input: [
          { role: 'user', content: 'x' },
          {
            type: 'message',
            id: 'msg_1',
            status: 'completed',
            role: 'assistant',
            content: [
              { type: 'output_text', text: 'Раз, ', annotations: [] },
              { type: 'output_text', text: 'два.', annotations: [] },
              { type: 'refusal', refusal: ' Не скажу.' },
            ],
          },
          { role: 'assistant', content: 'Строкой.' },
        ],
      });
      expect(request.messages.slice(1)).to.deep.equal([
        { role: 'assistant', content: 'Раз, два. Не скажу.' },
        { role: 'assistant', content: 'Строкой.' },
      ]);
    });

    it('merges an assistant message and the function_call items after it into one chat message', () => {
      const { request, origins } = translate({
        input: [
          { role: 'user', content: 'Погода в Москве и Казани?' },
          { role: 'assistant', content: 'Сейчас узнаю.' },
          { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'weather', arguments: '{"city":"Москва"}' },
          {
            type: 'function_call',
            call_id: 'call_b',
            name: 'weather',
            arguments: '{"city":"Казань"}',
            status: 'completed',
          },
          { type: 'function_call_output', call_id: 'call_a', output: '+5' },
          { type: 'function_call_output', call_id: 'call_b', output: '+3' },
        ],
      });
      expect(request.messages).to.deep.equal([
        { role: 'user', content: 'Погода в Москве и Казани?' },
        {
          role: 'assistant',
          content: 'Сейчас узнаю.',
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Москва"}' } },
            { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Казань"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '+5' },
        { role: 'tool', tool_call_id: 'call_b', content: '+3' },
      ]);
      expect(origins).to.deep.equal(['input[0]', 'input[1]', 'input[4]', 'input[5]']);
    });

    it('makes function_call items with no assistant message before them one assistant message with null content', () => {
      const { request, origins } = translate({
        input: [
          { role: 'user', content: 'x' },
          { type: 'function_call', call_id: 'call_a', name: 'f', arguments: '{}' },
          { type: 'function_call', call_id: 'call_b', name: 'g', arguments: '{}' },
          { type: 'function_call_output', call_id: 'call_a', output: 'a' },
          { type: 'function_call_output', call_id: 'call_b', output: 'b' },
          { type: 'function_call', call_id: 'call_c', name: 'f', arguments: '{"again":true}' },
        ],
      });
      expect(request.messages.map((message) => message.role)).to.deep.equal([
        'user',
        'assistant',
        'tool',
        'tool',
        'assistant',
      ]);
      expect(request.messages[1]).to.deep.equal({
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } },
          { id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } },
        ],
      });
      // A call after tool results starts a new assistant turn.
      expect(request.messages[4]).to.deep.include({ content: null });
      expect(origins).to.deep.equal(['input[0]', 'input[1]', 'input[3]', 'input[4]', 'input[5]']);
    });

    it('joins a function_call_output given as input_text parts', () => {
      const { request } = translate({
        input: [
          { role: 'user', content: 'x' },
          { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
          {
            type: 'function_call_output',
            call_id: 'c',
            output: [
              { type: 'input_text', text: '{"a":' },
              { type: 'input_text', text: '1}' },
            ],
          },
        ],
      });
      expect(request.messages[2]).to.deep.equal({ role: 'tool', tool_call_id: 'c', content: '{"a":1}' });
    });

    it('leaves reasoning items out', () => {
      const { request, origins } = translate({
        input: [
          { role: 'user', content: 'x' },
          { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAA…' },
          { role: 'assistant', content: 'y' },
        ],
      });
      expect(request.messages).to.deep.equal([
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'y' },
      ]);
      expect(origins).to.deep.equal(['input[0]', 'input[2]']);
    });

    it('puts the stored conversation before the input, its messages from previous_response_id', () => {
      const history = [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Как тебя зовут?' }] },
        {
          type: 'message',
          id: 'msg_1',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'ГигаЧат.', annotations: [] }],
        },
      ] as HistoryItem[];
      const { request, origins } = translate({ instructions: 'Кратко.', input: 'А ещё раз?' }, history);
      expect(request.messages).to.deep.equal([
        { role: 'system', content: 'Кратко.' },
        { role: 'user', content: [{ type: 'text', text: 'Как тебя зовут?' }] },
        { role: 'assistant', content: 'ГигаЧат.' },
        { role: 'user', content: 'А ещё раз?' },
      ]);
      expect(origins).to.deep.equal(['instructions', 'previous_response_id', 'previous_response_id', 'input[0]']);
    });

    it('joins a function_call_output in the input to the stored call it answers', () => {
      const history = [
        { type: 'message', role: 'user', content: 'Погода?' },
        { type: 'function_call', id: 'fc_1', call_id: 'call_x', name: 'weather', arguments: '{}', status: 'completed' },
      ] as HistoryItem[];
      const { request } = translate(
        { input: [{ type: 'function_call_output', call_id: 'call_x', output: '+5' }] },
        history,
      );
      expect(request.messages).to.deep.equal([
        { role: 'user', content: 'Погода?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'weather', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_x', content: '+5' },
      ]);
    });
  });

  describe('refusals, each naming the Responses field', () => {
    const cases: Array<[string, Record<string, unknown>, string, string?]> = [
      [
        'an assistant message with input_image',
        { input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: PNG }] }] },
        'input[0].content[0].type',
      ],
      [
        'a developer message with an image',
        {
          input: [
            { role: 'user', content: 'x' },
            {
              role: 'developer',
              content: [
                { type: 'input_text', text: 'a' },
                { type: 'input_image', image_url: PNG },
              ],
            },
          ],
        },
        'input[1].content[1].type',
      ],
      [
        'an input_image with neither URL nor file id',
        { input: [{ role: 'user', content: [{ type: 'input_image', image_url: null }] }] },
        'input[0].content[0].image_url',
      ],
      [
        'an input_file with file_url',
        { input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://example.com/a.pdf' }] }] },
        'input[0].content[0].file_url',
        'unsupported_parameter',
      ],
      [
        'an input_file with neither data nor id',
        { input: [{ role: 'user', content: [{ type: 'input_file', filename: 'a.pdf' }] }] },
        'input[0].content[0].file_data',
      ],
      [
        'a user message with an output_text part',
        { input: [{ role: 'user', content: [{ type: 'output_text', text: 'x' }] }] },
        'input[0].content[0].type',
      ],
      [
        'an image as a function result',
        {
          input: [
            { role: 'user', content: 'x' },
            { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
            { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: PNG }] },
          ],
        },
        'input[2].output[0].type',
        'unsupported_content',
      ],
      ['only system messages', { instructions: 'a', input: [{ role: 'system', content: 'b' }] }, 'input'],
      ['only reasoning', { input: [{ type: 'reasoning', summary: [] }] }, 'input'],
    ];
    for (const [what, body, param, code] of cases) {
      it(`${what}: 400 naming ${param}`, () => {
        const error = refusal(body);
        expect(error.status).to.equal(400);
        expect(error.param).to.equal(param);
        if (code !== undefined) expect(error.code).to.equal(code);
      });
    }

    it('names previous_response_id for a stored item it cannot send', () => {
      const history = [{ type: 'message', role: 'assistant', content: [{ type: 'input_image', image_url: PNG }] }];
      expect(refusal({ input: 'x' }, history as HistoryItem[]).param).to.equal('previous_response_id');
    });
  });

  describe('parameters', () => {
    it('maps each Responses parameter to its chat name', () => {
      const { request } = translate({
        input: 'x',
        max_output_tokens: 256,
        temperature: 0,
        top_p: 0.5,
        user: 'u-1',
        parallel_tool_calls: false,
        reasoning: { effort: 'low', summary: 'auto' },
        prompt_cache_key: 'k',
        text: { verbosity: 'low', format: { type: 'json_object' } },
      });
      const { model, messages, ...params } = request;
      expect(params).to.deep.equal({
        max_completion_tokens: 256,
        temperature: 0, // a zero survives
        top_p: 0.5,
        user: 'u-1',
        parallel_tool_calls: false,
        reasoning_effort: 'low',
        prompt_cache_key: 'k',
        verbosity: 'low',
        response_format: { type: 'json_object' },
      });
    });

    it('leaves out what was not sent, or sent as null', () => {
      const { request } = translate({ input: 'x', max_output_tokens: null, temperature: null, reasoning: null });
      expect(request).to.deep.equal({ model: 'GigaChat-2-Max', messages: [{ role: 'user', content: 'x' }] });
    });

    it('turns text.format json_schema into response_format json_schema, description and strict only when given', () => {
      const schema = { type: 'object', properties: { a: { type: 'string' } } };
      const full = translate({
        input: 'x',
        text: { format: { type: 'json_schema', name: 'thing', description: 'A thing', schema, strict: true } },
      });
      expect(full.request.response_format).to.deep.equal({
        type: 'json_schema',
        json_schema: { name: 'thing', schema, description: 'A thing', strict: true },
      });
      const bare = translate({
        input: 'x',
        text: { format: { type: 'json_schema', name: 'thing', schema, strict: null } },
      });
      expect(bare.request.response_format).to.deep.equal({
        type: 'json_schema',
        json_schema: { name: 'thing', schema },
      });
      expect(translate({ input: 'x', text: { format: { type: 'text' } } }).request.response_format).to.deep.equal({
        type: 'text',
      });
    });

    it('turns flat function tools into chat tools, optional fields only when given', () => {
      const parameters = { type: 'object', properties: {} };
      const { request } = translate({
        input: 'x',
        tools: [
          { type: 'function', name: 'a', description: 'A', parameters, strict: true },
          { type: 'function', name: 'b', description: null, parameters: null, strict: null },
        ],
      });
      expect(request.tools).to.deep.equal([
        { type: 'function', function: { name: 'a', description: 'A', parameters, strict: true } },
        { type: 'function', function: { name: 'b' } },
      ]);
      expect(translate({ input: 'x', tools: [] }).request).not.to.have.property('tools');
    });

    it('maps tool_choice: a mode, a function by name, allowed tools', () => {
      const tools = [{ type: 'function', name: 'f' }];
      expect(translate({ input: 'x', tools, tool_choice: 'required' }).request.tool_choice).to.equal('required');
      expect(
        translate({ input: 'x', tools, tool_choice: { type: 'function', name: 'f' } }).request.tool_choice,
      ).to.deep.equal({ type: 'function', function: { name: 'f' } });
      const allowed = translate({
        input: 'x',
        tools,
        tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'f' }] },
      });
      expect(allowed.request.tool_choice).to.deep.equal({
        type: 'allowed_tools',
        allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'f' } }] },
      });
    });

    it('asks a stream for its usage', () => {
      const { request } = translate({ input: 'x' }, [], true);
      expect(request).to.deep.include({ stream: true, stream_options: { include_usage: true } });
      expect(translate({ input: 'x' }).request).not.to.have.property('stream');
    });
  });
});

describe('chatParamToResponses and renameChatParam (a chat error → the Responses field)', () => {
  // Message 4 holds the calls of input[3] and input[4]; message 5 is input[5], a function_call_output.
  const origins = {
    origins: ['instructions', 'previous_response_id', 'input[0]', 'input[2]', 'input[3]', 'input[5]'],
    calls: new Map([
      ['4:0', 'input[3]'],
      ['4:1', 'input[4]'],
    ]),
    outputs: new Set([5]),
  };
  const none = { origins: [], calls: new Map(), outputs: new Set<number>() };

  it('names the input item a chat message came from, keeping the path inside it', () => {
    expect(chatParamToResponses('messages[2].content[1].type', origins)).to.equal('input[0].content[1].type');
    expect(chatParamToResponses('messages[3]', origins)).to.equal('input[2]');
    expect(chatParamToResponses('messages[3].content', origins)).to.equal('input[2].content');
  });

  it('names instructions, previous_response_id, or the input as a whole for what has no item', () => {
    expect(chatParamToResponses('messages[0].content', origins)).to.equal('instructions');
    expect(chatParamToResponses('messages[1].content[0].image_url.url', origins)).to.equal('previous_response_id');
    expect(chatParamToResponses('messages[9].content', origins)).to.equal('input');
    expect(chatParamToResponses('messages', origins)).to.equal('input');
  });

  it('names a tool call by its own function_call item, and the fields inside items by their Responses names', () => {
    const cases: Array<[string, string]> = [
      ['messages[4].tool_calls[1].function.arguments', 'input[4].arguments'],
      ['messages[4].tool_calls[0].function.name', 'input[3].name'],
      ['messages[4].tool_calls[1].id', 'input[4].call_id'],
      ['messages[4].tool_calls[0]', 'input[3]'],
      ['messages[5].tool_call_id', 'input[5].call_id'],
      ['messages[5].content', 'input[5].output'],
      ['messages[2].content[1].image_url.url', 'input[0].content[1].image_url'],
      ['messages[2].content[0].file.file_data', 'input[0].content[0].file_data'],
      ['messages[2].content[0].file', 'input[0].content[0]'],
    ];
    for (const [chat, responses] of cases) expect(chatParamToResponses(chat, origins), chat).to.equal(responses);
  });

  it('renames chat parameters to their Responses names', () => {
    const cases: Array<[string, string]> = [
      ['response_format', 'text.format'],
      ['response_format.type', 'text.format.type'],
      ['response_format.json_schema.schema', 'text.format.schema'],
      ['response_format.json_schema', 'text.format'],
      ['max_completion_tokens', 'max_output_tokens'],
      ['reasoning_effort', 'reasoning.effort'],
      ['verbosity', 'text.verbosity'],
      ['tools[2].function.parameters', 'tools[2].parameters'],
      ['tools[0].function.name', 'tools[0].name'],
      ['tools[1].type', 'tools[1].type'],
      ['tool_choice.function.name', 'tool_choice.name'],
      ['tool_choice.type', 'tool_choice.type'],
      ['temperature', 'temperature'],
      ['model', 'model'],
    ];
    for (const [chat, responses] of cases) expect(chatParamToResponses(chat, origins), chat).to.equal(responses);
  });

  it('does not rename look-alikes', () => {
    expect(chatParamToResponses('response_formats', none)).to.equal('response_formats');
    expect(chatParamToResponses('max_completion_tokens_x', none)).to.equal('max_completion_tokens_x');
  });

  it('rewrites a gateway error’s param in place and leaves other errors alone', () => {
    const error = new BadRequestError('no JSON mode', { param: 'response_format', code: 'unsupported_parameter' });
    expect(renameChatParam(error, origins)).to.equal(error);
    expect(error.param).to.equal('text.format');
    expect(error.code).to.equal('unsupported_parameter');
    const unnamed = new UpstreamError('down');
    expect((renameChatParam(unnamed, origins) as UpstreamError).param).to.equal(null);
    const plain = new Error('not ours');
    expect(renameChatParam(plain, origins)).to.equal(plain);
    const quoted = new BadRequestError("'messages[5].content' is too deep.", { param: 'messages[5].content' });
    renameChatParam(quoted, origins);
    expect(quoted.message).to.equal("'input[5].output' is too deep.");
  });
});
