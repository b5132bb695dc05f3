import { expect } from 'chai';
import { BadRequestError, RateLimitError, UpstreamError } from '../../../gateway/openai/errors.ts';
import { validateResponsesRequest } from '../../../gateway/openai/responses-request.schema.ts';
import type {
  OpenAIChatChunk,
  OpenAIChatCompletion,
  OpenAIChunkDelta,
  OpenAIFinishReason,
  OpenAIResponse,
  OpenAIResponseStreamEvent,
  OpenAIUsage,
} from '../../../gateway/openai/types.ts';
import {
  completionChunk,
  inputItemsWithIds,
  ResponseBuilder,
  responseItemId,
  responseOfItem,
  responseShell,
  responseUsage,
} from '../../../gateway/responses/response-builder.ts';

/*
 * The builder turns chat chunks into a Responses object and its stream events. The chunks here are
 * in the shape the providers yield (as the recorded streams translate: role first, then deltas,
 * the finish reason, and usage in the last chunk).
 */

const USAGE: OpenAIUsage = {
  prompt_tokens: 9,
  completion_tokens: 30,
  total_tokens: 39,
  prompt_tokens_details: { cached_tokens: 2 },
  completion_tokens_details: { reasoning_tokens: 12 },
};

function chunk(delta: OpenAIChunkDelta, finishReason: OpenAIFinishReason | null = null): OpenAIChatChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'GigaChat-2-Max',
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  };
}

const usageChunk = (usage: OpenAIUsage = USAGE): OpenAIChatChunk => ({ ...chunk({}), choices: [], usage });

function newResponse(body: Record<string, unknown> = {}, status: 'queued' | 'in_progress' = 'in_progress') {
  const request = validateResponsesRequest({ model: 'GigaChat-2-Max', input: 'x', ...body });
  return responseShell(request, responseItemId('resp'), 1_700_000_000, status);
}

/** Events as a client gets them: serialised once the call that made them returns (they refer to the live response). */
const wire = (events: OpenAIResponseStreamEvent[]): OpenAIResponseStreamEvent[] => JSON.parse(JSON.stringify(events));

/** Feeds chunks to a new builder; every event in order as sent, the builder and its response. */
function build(chunks: OpenAIChatChunk[], options: { finish?: boolean; start?: number } = {}) {
  const response = newResponse();
  const builder = new ResponseBuilder(response, options.start ?? 0);
  const events: OpenAIResponseStreamEvent[] = wire(builder.created());
  for (const each of chunks) events.push(...wire(builder.chunk(each)));
  if (options.finish !== false) events.push(...wire(builder.finish(undefined)));
  return { builder, response, events };
}

const types = (events: OpenAIResponseStreamEvent[]) => events.map((event) => event.type);
const field = (event: OpenAIResponseStreamEvent | undefined, name: string) =>
  (event as unknown as Record<string, unknown> | undefined)?.[name];

describe('ResponseBuilder (chat chunks → a response and its events)', () => {
  it('streams a text answer in OpenAI’s order and ends completed with the usage', () => {
    const { response, events } = build([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Раз' }),
      chunk({ content: ', два' }),
      chunk({}, 'stop'),
      usageChunk(),
    ]);
    expect(types(events)).to.deep.equal([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).to.deep.equal(events.map((_event, index) => index));
    const added = events[2] as OpenAIResponseStreamEvent & { item: { id: string; status: string } };
    expect(added.item).to.deep.include({ type: 'message', role: 'assistant' });
    expect(
      events
        .slice(3, 9)
        .every((event) => field(event, 'item_id') === added.item.id || event.type === 'response.output_item.done'),
    ).to.equal(true);
    expect(events.slice(4, 6).map((event) => field(event, 'delta'))).to.deep.equal(['Раз', ', два']);
    expect(field(events[6], 'text')).to.equal('Раз, два');
    expect(field(events[7], 'part')).to.deep.equal({ type: 'output_text', text: 'Раз, два', annotations: [] });

    expect(response.status).to.equal('completed');
    expect(response.output_text).to.equal('Раз, два');
    expect(response.output).to.deep.equal([
      {
        id: added.item.id,
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Раз, два', annotations: [] }],
      },
    ]);
    expect(response.usage).to.deep.equal({
      input_tokens: 9,
      input_tokens_details: { cached_tokens: 2, cache_write_tokens: 0 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 12 },
      total_tokens: 39,
    });
    expect(response.completed_at).to.be.a('number');
    expect((events.at(-1) as { response: OpenAIResponse }).response.status).to.equal('completed');
  });

  it('names each output item after its response and place', () => {
    const { response } = build([chunk({ reasoning_content: 'Хм.' }), chunk({ content: 'Да.' })]);
    const [reasoning, message] = response.output;
    expect(reasoning?.id).to.match(/^rs_[0-9a-f]{48}0000$/);
    expect(message?.id).to.match(/^msg_[0-9a-f]{48}0001$/);
    expect(responseOfItem(message?.id as string)).to.equal(response.id);
    expect(responseOfItem('msg_made_up_by_a_client')).to.equal(undefined);
  });

  it('closes the reasoning item before the message opens', () => {
    const { response, events } = build([
      chunk({ role: 'assistant', reasoning_content: 'Считаю' }),
      chunk({ reasoning_content: ' буквы.' }),
      chunk({ content: 'Три.' }),
      chunk({}, 'stop'),
    ]);
    expect(types(events)).to.deep.equal([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.slice(2, 9).map((event) => field(event, 'output_index'))).to.deep.equal([0, 0, 0, 0, 0, 0, 0]);
    expect(events.slice(9, 15).map((event) => field(event, 'output_index'))).to.deep.equal([1, 1, 1, 1, 1, 1]);
    expect(field(events[3], 'part')).to.deep.equal({ type: 'summary_text', text: '' });
    expect(response.output[0]).to.deep.include({
      type: 'reasoning',
      status: 'completed',
      summary: [{ type: 'summary_text', text: 'Считаю буквы.' }],
    });
    expect(response.output_text).to.equal('Три.'); // reasoning is not the answer
  });

  it('gives each tool call its own item, arguments streamed, call id and name kept', () => {
    const { response, events } = build([
      chunk({ role: 'assistant', content: 'Узнаю.' }),
      chunk({
        tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Москва"}' } }] }),
      chunk({
        tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }],
      }),
      chunk({}, 'tool_calls'),
      usageChunk(),
    ]);
    expect(types(events)).to.deep.equal([
      'response.created',
      'response.in_progress',
      'response.output_item.added', // the message
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added', // call_a
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added', // call_b
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(field(events[8], 'item')).to.deep.include({ type: 'function_call', status: 'in_progress', arguments: '' });
    expect(field(events[11], 'arguments')).to.equal('{"city":"Москва"}');
    expect(response.status).to.equal('completed');
    expect(response.output.map((item) => item.type)).to.deep.equal(['message', 'function_call', 'function_call']);
    expect(response.output.slice(1)).to.deep.equal([
      {
        id: response.output[1]?.id,
        type: 'function_call',
        status: 'completed',
        arguments: '{"city":"Москва"}',
        call_id: 'call_a',
        name: 'weather',
      },
      {
        id: response.output[2]?.id,
        type: 'function_call',
        status: 'completed',
        arguments: '{}',
        call_id: 'call_b',
        name: 'time',
      },
    ]);
  });

  // Both providers send a call's arguments whole in its first chunk: output_item.added must not
  // carry what its delta then repeats.
  it('sends output_item.added for a call with empty arguments: they come in the deltas', () => {
    const { events } = build([
      chunk({
        tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      }),
      chunk({}, 'tool_calls'),
    ]);
    const added = events.find((event) => event.type === 'response.output_item.added');
    expect(field(added, 'item')).to.deep.include({ type: 'function_call', arguments: '', status: 'in_progress' });
    const deltas = events.filter((event) => event.type === 'response.function_call_arguments.delta');
    expect(deltas.map((event) => field(event, 'delta')).join('')).to.equal('{"a":1}');
  });

  it('keeps a late argument piece of a closed call in its item, with no event', () => {
    const { response, events } = build([
      chunk({
        tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a":' } }],
      }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    const deltas = events.filter((event) => event.type === 'response.function_call_arguments.delta');
    expect(deltas.map((event) => field(event, 'delta'))).to.deep.equal(['{"a":', '{}']);
    expect(response.output.map((item) => (item as { arguments?: string }).arguments)).to.deep.equal(['{"a":1}', '{}']);
  });

  it('gives a call without an id one of its own', () => {
    const { response } = build([
      chunk({ tool_calls: [{ index: 0, type: 'function', function: { name: 'f', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect((response.output[0] as { call_id: string }).call_id).to.match(/^call_[0-9a-f]{48}$/);
  });

  it('ends a cut-off answer (finish_reason length) incomplete, reason max_output_tokens, the item incomplete', () => {
    const { response, events } = build([chunk({ role: 'assistant', content: 'Долгий отв' }), chunk({}, 'length')]);
    expect(types(events).at(-1)).to.equal('response.incomplete');
    expect(types(events)).not.to.include('response.completed');
    expect(response.status).to.equal('incomplete');
    expect(response.incomplete_details).to.deep.equal({ reason: 'max_output_tokens' });
    expect(response.output[0]).to.deep.include({ status: 'incomplete' });
    expect(response.output_text).to.equal('Долгий отв');
    expect((events.at(-1) as { response: OpenAIResponse }).response.incomplete_details).to.deep.equal({
      reason: 'max_output_tokens',
    });
  });

  it('ends a filtered answer incomplete with reason content_filter', () => {
    const { response, events } = build([chunk({ role: 'assistant', content: null }, 'content_filter')]);
    expect(types(events)).to.deep.equal(['response.created', 'response.in_progress', 'response.incomplete']);
    expect(response.incomplete_details).to.deep.equal({ reason: 'content_filter' });
    expect(response.output).to.deep.equal([]);
  });

  it('fail(): status failed, the error’s message, response.failed last; the text so far stays, incomplete', () => {
    const { builder, response, events } = build([chunk({ content: 'Начал' }), usageChunk()], { finish: false });
    const failed = builder.fail(new UpstreamError('GigaChat: the stream broke'));
    expect(types(failed)).to.deep.equal(['response.failed']);
    expect(failed[0]?.sequence_number).to.equal(events.length);
    expect(response.status).to.equal('failed');
    expect(response.error).to.deep.equal({ code: 'server_error', message: 'GigaChat: the stream broke' });
    expect(response.output).to.deep.equal([
      {
        id: response.output[0]?.id,
        type: 'message',
        status: 'incomplete',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Начал', annotations: [] }],
      },
    ]);
    expect(response.usage?.total_tokens).to.equal(39);
    const limited = new ResponseBuilder(newResponse());
    limited.fail(new RateLimitError('slow down'));
    expect(limited.response.error?.code).to.equal('rate_limit_exceeded');
    const refused = new ResponseBuilder(newResponse());
    refused.fail(new BadRequestError('no'));
    expect(refused.response.error?.code).to.equal('server_error');
  });

  it('snapshot(): the open item with its text so far, the builder’s own response unchanged', () => {
    const { builder, response } = build([chunk({ reasoning_content: 'Думаю' })], { finish: false });
    expect(builder.snapshot().output[0]).to.deep.include({ summary: [{ type: 'summary_text', text: 'Думаю' }] });
    builder.chunk(chunk({ content: 'Отв' }));
    builder.chunk(chunk({ content: 'ет' }));
    const snapshot = builder.snapshot();
    expect(snapshot.output[1]).to.deep.include({
      type: 'message',
      status: 'in_progress',
      content: [{ type: 'output_text', text: 'Ответ', annotations: [] }],
    });
    expect(snapshot.output_text).to.equal('Ответ');
    expect(snapshot.status).to.equal('in_progress');
    expect((response.output[1] as { content: unknown[] }).content).to.deep.equal([]); // not the live item
    expect(snapshot.output[0]).to.deep.include({ status: 'completed' });
  });

  it('snapshot() with an open call, or nothing open, is the response itself', () => {
    const { builder, response } = build(
      [chunk({ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '{' } }] })],
      { finish: false },
    );
    expect(builder.snapshot()).to.equal(response);
    expect(new ResponseBuilder(newResponse()).snapshot().output).to.deep.equal([]);
  });

  it('continues the sequence numbers from a given start (a background response resumed)', () => {
    const { builder, events } = build([chunk({ content: 'x' })], { start: 7 });
    expect(events.map((event) => event.sequence_number)).to.deep.equal(events.map((_event, index) => 7 + index));
    expect(builder.sequence).to.equal(7 + events.length);
  });

  it('queued: response.created and response.queued, then started() gives response.in_progress', () => {
    const builder = new ResponseBuilder(newResponse({ background: true }, 'queued'), 0);
    expect(types(builder.created())).to.deep.equal(['response.created', 'response.queued']);
    const started = builder.started();
    expect(types(started)).to.deep.equal(['response.in_progress']);
    expect(started[0]?.sequence_number).to.equal(2);
    expect(builder.response.status).to.equal('in_progress');
  });

  it('cancel(): status cancelled, no events, the open text kept incomplete', () => {
    const { builder, response } = build([chunk({ content: 'Полу' })], { finish: false });
    builder.cancel();
    expect(response.status).to.equal('cancelled');
    expect(response.output[0]).to.deep.include({
      status: 'incomplete',
      content: [{ type: 'output_text', text: 'Полу', annotations: [] }],
    });
  });

  it('builds a JSON completion through completionChunk as the same response a stream makes', () => {
    const completion: OpenAIChatCompletion = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'GigaChat-2-Max',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          logprobs: null,
          message: {
            role: 'assistant',
            content: 'Узнаю.',
            refusal: null,
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Москва"}' } },
            ],
          },
        },
      ],
      usage: USAGE,
    };
    const whole = new ResponseBuilder(newResponse());
    whole.chunk(completionChunk(completion));
    whole.finish(completion.usage);
    const { response: streamed } = build([
      chunk({ role: 'assistant', content: 'Узнаю.' }),
      chunk({
        tool_calls: [
          { index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Москва"}' } },
        ],
      }),
      chunk({}, 'tool_calls'),
      usageChunk(),
    ]);
    const shape = (response: OpenAIResponse) => response.output.map(({ id: _id, ...item }) => item);
    expect(shape(whole.response)).to.deep.equal(shape(streamed));
    expect(whole.response.usage).to.deep.equal(streamed.usage);
    expect(whole.response.status).to.equal('completed');
  });
});

describe('responseShell, responseUsage, inputItemsWithIds', () => {
  it('echoes the request in a new response, with OpenAI’s defaults for what was not sent', () => {
    const request = validateResponsesRequest({ model: 'GigaChat-2-Max', input: 'x' });
    const response = responseShell(request, 'resp_1', 1_700_000_000, 'in_progress');
    expect(response).to.deep.include({
      id: 'resp_1',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'in_progress',
      background: false,
      error: null,
      incomplete_details: null,
      instructions: null,
      max_output_tokens: null,
      model: 'GigaChat-2-Max',
      output: [],
      output_text: '',
      parallel_tool_calls: true,
      previous_response_id: null,
      store: true,
      temperature: 1,
      tool_choice: 'auto',
      tools: [],
      top_p: 1,
      truncation: 'disabled',
      usage: null,
      metadata: {},
    });
    expect(response.text).to.deep.equal({ format: { type: 'text' }, verbosity: 'medium' });
    const sent = validateResponsesRequest({
      model: 'm',
      input: 'x',
      store: false,
      temperature: 0,
      instructions: 'i',
      max_output_tokens: 5,
      metadata: { a: 'b' },
    });
    expect(responseShell(sent, 'resp_2', 1, 'in_progress')).to.deep.include({
      store: false,
      temperature: 0,
      instructions: 'i',
      max_output_tokens: 5,
      metadata: { a: 'b' },
    });
  });

  it('maps chat usage to Responses usage, zero details when the upstream gives none', () => {
    expect(responseUsage({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })).to.deep.equal({
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 7,
    });
  });

  it('lists input items with ids, string content as parts, and status completed; a client’s id stays', () => {
    const { input } = validateResponsesRequest({
      model: 'm',
      input: [
        { role: 'user', content: 'Привет' },
        { role: 'assistant', content: 'Здравствуй' },
        { type: 'function_call', id: 'fc_client', call_id: 'c', name: 'f', arguments: '{}', status: 'in_progress' },
        { type: 'function_call_output', call_id: 'c', output: 'ok' },
      ],
    });
    const listed = inputItemsWithIds(input) as unknown as Array<Record<string, unknown>>;
    expect(listed[0]).to.deep.include({
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text: 'Привет' }],
    });
    expect(listed[0]?.id).to.match(/^msg_[0-9a-f]{48}$/);
    expect(listed[1]?.content).to.deep.equal([{ type: 'output_text', text: 'Здравствуй', annotations: [] }]);
    expect(listed[2]).to.deep.include({ id: 'fc_client', status: 'in_progress' });
    expect(listed[3]?.id).to.match(/^fco_[0-9a-f]{48}$/);
    expect(listed.map((item) => item.status)).to.deep.equal(['completed', 'completed', 'in_progress', 'completed']);
    expect((input[0] as { content: unknown }).content).to.equal('Привет'); // the request is not changed
  });
});
