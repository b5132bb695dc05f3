import { randomHex48 } from '../lib/random-id.ts';
import type { GatewayError } from '../openai/errors.ts';
import type { ResponsesInputItem, ResponsesRequest } from '../openai/responses-request.schema.ts';
import type {
  OpenAIChatChunk,
  OpenAIChatCompletion,
  OpenAIChunkDelta,
  OpenAIFinishReason,
  OpenAIResponse,
  OpenAIResponseFunctionCall,
  OpenAIResponseItem,
  OpenAIResponseOutputMessage,
  OpenAIResponseReasoningItem,
  OpenAIResponseStreamEvent,
  OpenAIResponseUsage,
  OpenAIUsage,
} from '../openai/types.ts';

/*
 * Chat chunks → a Responses `response` and its stream events, in OpenAI's order:
 * response.created, response.in_progress, then per output item output_item.added, its part's
 * .added, the deltas, their .done, the part's .done, output_item.done, and last one of
 * response.completed / response.incomplete / response.failed. Reasoning goes out as a summary
 * part, which clients (the Vercel AI SDK, LangChain) show. A JSON answer runs through the same
 * builder (completionChunk), so both forms of an answer are one translation.
 */

/** An id in OpenAI's style: a prefix and 48 hex digits. */
export function responseItemId(prefix: 'resp' | 'msg' | 'fc' | 'rs' | 'call'): string {
  return `${prefix}_${randomHex48()}`;
}

/*
 * An output item's id names its response: `msg_<the response's 48 hex digits><4 hex digits of its
 * place>`. Clients that keep only ids (the Vercel AI SDK sends `item_reference` for what a stored
 * response said) are then answered from that one stored response, with no index to keep.
 */
const OUTPUT_ITEM_ID = /^(?:msg|fc|rs)_([0-9a-f]{48})[0-9a-f]{4}$/;

function outputItemId(prefix: 'msg' | 'fc' | 'rs', responseId: string, index: number): string {
  const hex = responseId.slice('resp_'.length);
  return `${prefix}_${hex}${index.toString(16).padStart(4, '0')}`;
}

/** The response an output item id belongs to, or undefined for an id this gateway did not make. */
export function responseOfItem(itemId: string): string | undefined {
  const hex = OUTPUT_ITEM_ID.exec(itemId)?.[1];
  return hex === undefined ? undefined : `resp_${hex}`;
}

/** A new response's fields that echo the request, before any output. */
export function responseShell(
  request: ResponsesRequest,
  id: string,
  createdAt: number,
  status: 'queued' | 'in_progress',
): OpenAIResponse {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: request.background === true,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: request.model,
    output: [],
    output_text: '',
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    service_tier: 'default',
    store: request.store !== false,
    temperature: request.temperature ?? 1,
    text: { format: request.text?.format ?? { type: 'text' }, verbosity: request.text?.verbosity ?? 'medium' },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? 1,
    truncation: request.truncation ?? 'disabled',
    usage: null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  } as unknown as OpenAIResponse;
}

/** Chat usage → Responses usage. */
export function responseUsage(usage: OpenAIUsage): OpenAIResponseUsage {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0, cache_write_tokens: 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/** A whole chat completion as the one chunk it would have been streamed as. */
export function completionChunk(completion: OpenAIChatCompletion): OpenAIChatChunk {
  const choice = completion.choices[0];
  const message = choice?.message;
  const delta: Record<string, unknown> = { role: 'assistant' };
  if (message?.reasoning_content) delta.reasoning_content = message.reasoning_content;
  if (message?.content) delta.content = message.content;
  if (message?.tool_calls !== undefined) {
    delta.tool_calls = message.tool_calls.map((call, index) => ({ index, ...call }));
  }
  return {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
    choices: [{ index: 0, delta, finish_reason: choice?.finish_reason ?? 'stop', logprobs: null }],
    usage: completion.usage ?? null,
  } as OpenAIChatChunk;
}

type Event = OpenAIResponseStreamEvent;
/** An event before its sequence number is given. */
type Unnumbered = Event extends infer E ? (E extends Event ? Omit<E, 'sequence_number'> : never) : never;

type OpenMessage = { kind: 'message'; index: number; item: OpenAIResponseOutputMessage; text: string };
type OpenReasoning = { kind: 'reasoning'; index: number; item: OpenAIResponseReasoningItem; text: string };
type OpenItem = OpenMessage | OpenReasoning | { kind: 'call'; index: number; item: OpenAIResponseFunctionCall };

/** An open text item's text so far, where its item keeps it: a message's output_text part, reasoning's summary part. */
function partsOf(
  open: OpenMessage | OpenReasoning,
): Pick<OpenAIResponseOutputMessage, 'content'> | Pick<OpenAIResponseReasoningItem, 'summary'> {
  return open.kind === 'message'
    ? { content: [{ type: 'output_text', text: open.text, annotations: [] }] }
    : { summary: [{ type: 'summary_text', text: open.text }] };
}

/**
 * Builds one response from chat chunks. Each method returns the events it caused; they refer to
 * the live snapshot, so a caller serialises each event before its next call.
 */
export class ResponseBuilder {
  readonly response: OpenAIResponse;
  #sequence = 0;
  #open: OpenItem | undefined;
  /** Function call items by the chat tool call's index. */
  readonly #calls = new Map<number, OpenAIResponseFunctionCall>();
  #finishReason: OpenAIFinishReason | undefined;
  #usage: OpenAIUsage | undefined;

  /** `sequence`: the events already given for this response (a background response resumed). */
  constructor(response: OpenAIResponse, sequence = 0) {
    this.response = response;
    this.#sequence = sequence;
  }

  /** Events given so far; the next one's sequence_number. */
  get sequence(): number {
    return this.#sequence;
  }

  /** The usage the chunks reported, for the client's account. */
  get usage(): OpenAIUsage | undefined {
    return this.#usage;
  }

  /** The response so far, the open item's text included (a background response's partial output). */
  snapshot(): OpenAIResponse {
    const open = this.#open;
    if (open === undefined || open.kind === 'call') return this.response;
    const output = [...this.response.output];
    output[open.index] = { ...open.item, ...partsOf(open) } as OpenAIResponse['output'][number];
    return { ...this.response, output };
  }

  /** response.created, and response.queued or response.in_progress as the status says. */
  created(): Event[] {
    const events = [this.#event({ type: 'response.created', response: this.response })];
    if (this.response.status === 'queued')
      events.push(this.#event({ type: 'response.queued', response: this.response }));
    else events.push(this.#event({ type: 'response.in_progress', response: this.response }));
    return events;
  }

  /** A queued response starts work. */
  started(): Event[] {
    this.response.status = 'in_progress';
    return [this.#event({ type: 'response.in_progress', response: this.response })];
  }

  /** The answering model's name (an alias's chain member after a fallback). */
  answeredBy(model: string): void {
    this.response.model = model;
  }

  chunk(chunk: OpenAIChatChunk): Event[] {
    if (chunk.usage != null) this.#usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice === undefined) return [];
    const events: Event[] = [];
    const delta = choice.delta as OpenAIChunkDelta;
    if (delta.reasoning_content) this.#text('reasoning', delta.reasoning_content, events);
    if (delta.content) this.#text('message', delta.content, events);
    for (const call of delta.tool_calls ?? []) {
      let item = this.#calls.get(call.index);
      if (item === undefined) {
        this.#close(events);
        item = {
          id: this.#itemId('fc'),
          type: 'function_call',
          status: 'in_progress',
          arguments: '',
          call_id: call.id ?? responseItemId('call'),
          name: call.function?.name ?? '',
        };
        this.#calls.set(call.index, item);
        const index = this.#add(item, events);
        this.#open = { kind: 'call', index, item };
      }
      const piece = call.function?.arguments ?? '';
      if (piece === '') continue;
      item.arguments += piece;
      // A late piece of a call already closed is kept in its item; its events have gone.
      if (this.#open?.item !== item) continue;
      events.push(
        this.#event({
          type: 'response.function_call_arguments.delta',
          item_id: item.id as string,
          output_index: this.#open.index,
          delta: piece,
        }),
      );
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) this.#finishReason = choice.finish_reason;
    return events;
  }

  /** Closes the open item and ends the response: completed, or incomplete when the model was cut off. */
  finish(usage: OpenAIUsage | undefined): Event[] {
    if (usage !== undefined) this.#usage = usage;
    const reason =
      this.#finishReason === 'length'
        ? 'max_output_tokens'
        : this.#finishReason === 'content_filter'
          ? 'content_filter'
          : undefined;
    const events: Event[] = [];
    this.#close(events, reason === undefined ? 'completed' : 'incomplete');
    const { response } = this;
    if (this.#usage !== undefined) response.usage = responseUsage(this.#usage);
    response.completed_at = Math.floor(Date.now() / 1000);
    if (reason === undefined) {
      response.status = 'completed';
      events.push(this.#event({ type: 'response.completed', response }));
    } else {
      response.status = 'incomplete';
      response.incomplete_details = { reason };
      events.push(this.#event({ type: 'response.incomplete', response }));
    }
    return events;
  }

  /** Ends the response as failed, with the error's code and message; what was said so far stays. */
  fail(error: GatewayError): Event[] {
    this.#settle();
    const { response } = this;
    response.status = 'failed';
    response.error = {
      code: (error.status === 429 ? 'rate_limit_exceeded' : 'server_error') as 'server_error',
      message: error.message,
    };
    if (this.#usage !== undefined) response.usage = responseUsage(this.#usage);
    return [this.#event({ type: 'response.failed', response })];
  }

  /** Stops a background response at the client's request; no further events. */
  cancel(): void {
    this.#settle();
    this.response.status = 'cancelled';
    if (this.#usage !== undefined) this.response.usage = responseUsage(this.#usage);
  }

  /** The open item, cut short: its text so far, status incomplete, no events. */
  #settle(): void {
    const open = this.#open;
    if (open === undefined) return;
    this.#open = undefined;
    if (open.kind !== 'call') Object.assign(open.item, partsOf(open));
    open.item.status = 'incomplete';
  }

  #text(kind: 'message' | 'reasoning', text: string, events: Event[]): void {
    let open = this.#open;
    if (open?.kind !== kind) {
      this.#close(events);
      open = kind === 'message' ? this.#openMessage(events) : this.#openReasoning(events);
    }
    if (open.kind === 'call') return;
    open.text += text;
    const item_id = open.item.id;
    if (open.kind === 'message') {
      events.push(
        this.#event({
          type: 'response.output_text.delta',
          item_id,
          output_index: open.index,
          content_index: 0,
          delta: text,
          logprobs: [],
        }),
      );
      this.response.output_text += text;
    } else {
      events.push(
        this.#event({
          type: 'response.reasoning_summary_text.delta',
          item_id,
          output_index: open.index,
          summary_index: 0,
          delta: text,
        }),
      );
    }
  }

  #openMessage(events: Event[]): OpenItem {
    const item: OpenAIResponseOutputMessage = {
      id: this.#itemId('msg'),
      type: 'message',
      status: 'in_progress',
      role: 'assistant',
      content: [],
    };
    const index = this.#add(item, events);
    events.push(
      this.#event({
        type: 'response.content_part.added',
        item_id: item.id,
        output_index: index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      }),
    );
    this.#open = { kind: 'message', index, item, text: '' };
    return this.#open;
  }

  #openReasoning(events: Event[]): OpenItem {
    const item: OpenAIResponseReasoningItem = {
      id: this.#itemId('rs'),
      type: 'reasoning',
      status: 'in_progress',
      summary: [],
    };
    const index = this.#add(item, events);
    events.push(
      this.#event({
        type: 'response.reasoning_summary_part.added',
        item_id: item.id,
        output_index: index,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      }),
    );
    this.#open = { kind: 'reasoning', index, item, text: '' };
    return this.#open;
  }

  #add(item: OpenAIResponse['output'][number], events: Event[]): number {
    const index = this.response.output.push(item) - 1;
    // A copy: the item changes before the caller serialises this event (a call's arguments come next).
    events.push(this.#event({ type: 'response.output_item.added', output_index: index, item: { ...item } }));
    return index;
  }

  #close(events: Event[], status: 'completed' | 'incomplete' = 'completed'): void {
    const open = this.#open;
    if (open === undefined) return;
    this.#open = undefined;
    const { index } = open;
    if (open.kind === 'call') {
      const { item } = open;
      events.push(
        this.#event({
          type: 'response.function_call_arguments.done',
          item_id: item.id as string,
          output_index: index,
          arguments: item.arguments,
        }),
      );
      item.status = status;
    } else if (open.kind === 'message') {
      const part = { type: 'output_text' as const, text: open.text, annotations: [] };
      const item_id = open.item.id;
      events.push(
        this.#event({
          type: 'response.output_text.done',
          item_id,
          output_index: index,
          content_index: 0,
          text: open.text,
          logprobs: [],
        }),
        this.#event({ type: 'response.content_part.done', item_id, output_index: index, content_index: 0, part }),
      );
      open.item.content = [part];
      open.item.status = status;
    } else {
      const part = { type: 'summary_text' as const, text: open.text };
      const item_id = open.item.id;
      events.push(
        this.#event({
          type: 'response.reasoning_summary_text.done',
          item_id,
          output_index: index,
          summary_index: 0,
          text: open.text,
        }),
        this.#event({
          type: 'response.reasoning_summary_part.done',
          item_id,
          output_index: index,
          summary_index: 0,
          part,
        }),
      );
      open.item.summary = [part];
      open.item.status = status;
    }
    events.push(this.#event({ type: 'response.output_item.done', output_index: index, item: open.item }));
  }

  /** The id of the output item about to be added. */
  #itemId(prefix: 'msg' | 'fc' | 'rs'): string {
    return outputItemId(prefix, this.response.id, this.response.output.length);
  }

  #event(event: Unnumbered): Event {
    return { ...event, sequence_number: this.#sequence++ } as Event;
  }
}

const ITEM_PREFIX = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  reasoning: 'rs',
  item_reference: 'ref',
} as const;

/** Input items as GET /v1/responses/{id}/input_items lists them: each with an id and a status. */
export function inputItemsWithIds(items: readonly ResponsesInputItem[]): OpenAIResponseItem[] {
  return items.map((item) => {
    const listed = { ...item } as Record<string, unknown>;
    if (typeof listed.id !== 'string' || listed.id === '') {
      listed.id = `${ITEM_PREFIX[item.type ?? 'message']}_${randomHex48()}`;
    }
    if (item.type === 'message' && typeof item.content === 'string') {
      listed.content = [
        item.role === 'assistant'
          ? { type: 'output_text', text: item.content, annotations: [] }
          : { type: 'input_text', text: item.content },
      ];
    }
    listed.status ??= 'completed';
    return listed as unknown as OpenAIResponseItem;
  });
}
