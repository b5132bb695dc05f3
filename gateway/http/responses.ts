import type { Logger } from '../lib/logger.ts';
import { BadRequestError, type GatewayError } from '../openai/errors.ts';
import { type ResponsesRequest, validateResponsesRequest } from '../openai/responses-request.schema.ts';
import { SSE_HEADERS, sseEvent } from '../openai/sse.ts';
import type { OpenAIResponse, OpenAIResponseStreamEvent, OpenAIUsage } from '../openai/types.ts';
import type { BackgroundResponses } from '../responses/background.ts';
import {
  completionChunk,
  inputItemsWithIds,
  ResponseBuilder,
  responseItemId,
  responseShell,
} from '../responses/response-builder.ts';
import { conversationOf, isTerminal, type ResponseStore, type StoredResponse } from '../responses/response-store.ts';
import {
  type ChatTranslation,
  type HistoryItem,
  renameChatParam,
  responsesToChat,
} from '../responses/responses-to-chat.ts';
import type { Route } from '../routing/model-router.ts';
import { answeredModel, type Dispatcher, openStream } from './dispatch.ts';
import { type StreamFormat, sendEventStream } from './event-stream.ts';
import { listPage } from './list-page.ts';
import { logPrompt } from './prompt-log.ts';
import { queryParams } from './query-params.ts';
import type { GatewayContext, GatewayMiddleware } from './state.ts';

/*
 * OpenAI's Responses API over the chat path: a request becomes a Chat Completions request
 * (responses-to-chat.ts) that goes through the same dispatcher (keys, model lists, limits,
 * retries, fallbacks, usage), and the chat answer becomes a response and its events
 * (response-builder.ts). Stored responses and background runs live in responses/.
 */

export interface ResponsesDeps {
  dispatcher: Dispatcher;
  responses: ResponseStore;
  background: BackgroundResponses;
  logger: Logger;
}

const MAX_LIST = 100;

export function responsesApi({ dispatcher, responses, background, logger }: ResponsesDeps) {
  const owner = (ctx: GatewayContext) => ctx.state.clientName;

  async function answerNow(ctx: GatewayContext, request: ResponsesRequest, prepared: Prepared): Promise<void> {
    const { translation, route, record } = prepared;
    const builder = new ResponseBuilder(record.response);
    const rename = (error: unknown) => {
      throw renameChatParam(error, translation);
    };
    const save = async () => {
      if (request.store !== false) await responses.save(record);
    };
    if (request.stream !== true) {
      const { value: completion, target } = await dispatcher
        .call(ctx, route, (target, call) =>
          target.provider.complete({ ...translation.request, model: target.model }, call),
        )
        .catch(rename);
      builder.answeredBy(answeredModel(request.model, route, target));
      builder.chunk(completionChunk(completion));
      builder.finish(completion.usage);
      await save();
      ctx.body = builder.response;
      dispatcher.record(ctx, target, completion.usage);
      return;
    }
    // Retries and fallbacks end with the first chunk, as on chat.
    const { value: opened, target } = await dispatcher
      .call(ctx, route, (target, call) => openStream(target, translation.request, call))
      .catch(rename);
    builder.answeredBy(answeredModel(request.model, route, target));
    const events = streamEvents(builder, opened.first, opened.chunks, save);
    ctx.respond = false;
    const format = responsesStream((error) => {
      void save().catch((failure: unknown) =>
        logger.warn({ err: failure }, 'responses: could not store a failed response'),
      );
      return builder.fail(renameChatParam(error, translation) as typeof error);
    });
    await sendEventStream(ctx, await events.next(), events, logger, format);
    dispatcher.record(ctx, target, builder.usage);
  }

  /** Validates, finds the conversation it continues, translates and routes; nothing is sent yet. */
  async function prepare(ctx: GatewayContext): Promise<{ request: ResponsesRequest; prepared: Prepared }> {
    const valid = validateResponsesRequest(ctx.request.body);
    const request = { ...valid, input: await responses.resolveReferences(valid.input, owner(ctx)) };
    const previous =
      request.previous_response_id == null
        ? undefined
        : await responses.get(request.previous_response_id, owner(ctx), 'previous_response_id');
    if (previous !== undefined && !isTerminal(previous.response)) {
      throw new BadRequestError(
        `Previous response with id '${previous.response.id}' is still ${previous.response.status}: continue from it once it has ended.`,
        { param: 'previous_response_id', code: 'previous_response_not_finished' },
      );
    }
    const history = previous === undefined ? [] : conversationOf(previous);
    const translation = responsesToChat(
      request,
      history as unknown as HistoryItem[],
      request.stream === true || request.background === true,
    );
    logPrompt({ model: request.model, instructions: request.instructions, messages: translation.request.messages });
    const route = await dispatcher.open(ctx, request.model);
    const background = request.background === true;
    const response = responseShell(
      request,
      responseItemId('resp'),
      Math.floor(Date.now() / 1000),
      background ? 'queued' : 'in_progress',
    );
    const record: StoredResponse = {
      owner: owner(ctx),
      response,
      input: [...history, ...inputItemsWithIds(request.input)],
      expiresAt: responses.expiry(),
    };
    return { request, prepared: { translation, route, record } };
  }

  return {
    async create(ctx) {
      const { request, prepared } = await prepare(ctx);
      if (request.background !== true) {
        await answerNow(ctx, request, prepared);
        return;
      }
      const { record } = prepared;
      record.request = { ...request, input: [] };
      const created = await background.accept(record, prepared.route);
      if (request.stream !== true) {
        ctx.body = record.response;
        return;
      }
      await followInStream(ctx, record.response.id, -1, created);
    },

    async retrieve(ctx) {
      const record = await find(ctx);
      const query = queryParams(ctx);
      if (query.one('stream') !== 'true') {
        ctx.body = await presented(record);
        return;
      }
      if (record.response.background !== true) {
        throw new BadRequestError('Only background responses can be streamed again; this one was answered at once.', {
          param: 'stream',
        });
      }
      const after = query.integer('starting_after', -1, Number.MAX_SAFE_INTEGER) ?? -1;
      await followInStream(ctx, record.response.id, after, []);
    },

    async remove(ctx) {
      const record = await find(ctx);
      if (!isTerminal(record.response)) {
        await responses.requestCancel(record);
        background.cancelHere(record.response.id);
      }
      await responses.remove(record);
      ctx.body = { id: record.response.id, object: 'response', deleted: true };
    },

    async cancel(ctx) {
      const record = await find(ctx);
      if (record.response.background !== true) {
        throw new BadRequestError('Only responses created with background: true can be cancelled.', {
          code: 'invalid_request',
        });
      }
      const shown = await presented(record);
      if (shown.status === 'cancelled') {
        ctx.body = shown;
        return;
      }
      if (isTerminal(record.response)) {
        throw new BadRequestError(`Cannot cancel a response whose status is ${record.response.status}.`, {
          code: 'invalid_request',
        });
      }
      await responses.requestCancel(record);
      background.cancelHere(record.response.id);
      ctx.body = { ...record.response, status: 'cancelled' };
    },

    async inputItems(ctx) {
      const record = await find(ctx);
      const query = queryParams(ctx);
      const limit = query.integer('limit', 1, MAX_LIST) ?? 20;
      const order = query.order();
      const items = order === 'desc' ? [...record.input].reverse() : record.input;
      ctx.body = listPage(items, {
        after: query.one('after'),
        limit,
        idOf: (item) => ('id' in item ? item.id : undefined),
        show: (item) => item,
        what: 'input item of this response',
      });
    },
  } satisfies Record<string, GatewayMiddleware>;

  async function find(ctx: GatewayContext): Promise<StoredResponse> {
    return responses.get(String(ctx.params.id ?? ''), owner(ctx));
  }

  /** A stored response as a client sees it: cancelled as soon as that was asked, though its run may still be stopping. */
  async function presented(record: StoredResponse): Promise<OpenAIResponse> {
    if (isTerminal(record.response) || !(await responses.cancelRequested(record.response.id))) return record.response;
    return { ...record.response, status: 'cancelled' };
  }

  /** Streams a background response's events after `after`: those given already, then the rest as saved. */
  async function followInStream(
    ctx: GatewayContext,
    id: string,
    after: number,
    already: readonly OpenAIResponseStreamEvent[],
  ): Promise<void> {
    const gone = new AbortController();
    ctx.res.once('close', () => gone.abort());
    let sent = after;
    const followed = background.follow(id, owner(ctx), already.at(-1)?.sequence_number ?? after, gone.signal);
    async function* all() {
      for (const event of already.filter((event) => event.sequence_number > after)) yield event;
      yield* followed;
    }
    async function* counted() {
      for await (const event of all()) {
        sent = event.sequence_number;
        yield event;
      }
    }
    const events = counted();
    ctx.respond = false;
    const first = await events.next();
    if (first.done === true) {
      ctx.res.writeHead(200, SSE_HEADERS);
      ctx.res.end();
      return;
    }
    // The run's own failure is an event it saved; this one is the follower's (the response deleted, say).
    const format = responsesStream((error) => [
      { type: 'error', code: error.code, message: error.message, param: error.param, sequence_number: sent + 1 },
    ]);
    await sendEventStream(ctx, first, events, logger, format);
  }
}

/** Responses' event stream: `event:` and `data:` per event, no end marker, a failure as the events `failure` gives. */
function responsesStream(failure: (error: GatewayError) => readonly { type: string }[]): StreamFormat {
  return {
    item: (event) => sseEvent(event as OpenAIResponseStreamEvent),
    end: '',
    failure: (error) => failure(error).map(sseEvent).join(''),
  };
}

interface Prepared {
  translation: ChatTranslation;
  route: Route;
  record: StoredResponse;
}

/**
 * A streamed answer's events: response.created and .in_progress, each chunk's, then the end,
 * saved (`save`) before the last event goes out, so a client that continues from it at once finds it.
 */
async function* streamEvents(
  builder: ResponseBuilder,
  first: IteratorResult<unknown, unknown>,
  chunks: AsyncIterator<unknown, unknown>,
  save: () => Promise<void>,
): AsyncGenerator<OpenAIResponseStreamEvent, OpenAIUsage | undefined> {
  try {
    yield* builder.created();
    let step = first;
    for (; step.done !== true; step = await chunks.next()) {
      yield* builder.chunk(step.value as Parameters<ResponseBuilder['chunk']>[0]);
    }
    const end = builder.finish(step.value as OpenAIUsage | undefined);
    await save();
    yield* end;
    return builder.usage;
  } finally {
    // A client gone mid-stream ends this generator early: the upstream stream ends with it.
    await chunks.return?.(undefined);
  }
}
