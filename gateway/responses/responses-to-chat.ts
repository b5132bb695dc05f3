import { BadRequestError, GatewayError } from '../openai/errors.ts';
import type { ResponsesInputItem, ResponsesRequest } from '../openai/responses-request.schema.ts';
import type {
  OpenAIAssistantMessage,
  OpenAIChatRequest,
  OpenAIContentPart,
  OpenAIMessage,
  OpenAIResponseInputContent,
} from '../openai/types.ts';

/*
 * A Responses request → the Chat Completions request both providers already speak. The
 * conversation is the stored history (previous_response_id) followed by this request's input.
 * The translation remembers where each chat message (and each tool call merged into one) came
 * from, so an error a provider raises about `messages[k]…` names the field the client sent
 * (renameChatParam).
 */

/** Where a chat message came from: `instructions`, `input[i]`, or the stored conversation. */
export type MessageOrigin = string;

/** Where the chat request's messages came from. */
export interface ParamOrigins {
  /** `origins[k]`: chat message k's. */
  origins: MessageOrigin[];
  /** `messages[k].tool_calls[j]` (as `k:j`) → the function_call item it came from. */
  calls: Map<string, MessageOrigin>;
  /** The chat messages that are function_call_output items (their `content` is the item's `output`). */
  outputs: Set<number>;
}

export interface ChatTranslation extends ParamOrigins {
  request: OpenAIChatRequest;
}

/** An input item of an earlier turn, as the store keeps it. */
export type HistoryItem = ResponsesInputItem;

export function responsesToChat(
  request: ResponsesRequest,
  history: readonly HistoryItem[],
  stream: boolean,
): ChatTranslation {
  const messages: OpenAIMessage[] = [];
  const origins: MessageOrigin[] = [];
  const calls = new Map<string, MessageOrigin>();
  const outputs = new Set<number>();
  const push = (message: OpenAIMessage, origin: MessageOrigin) => {
    messages.push(message);
    origins.push(origin);
  };
  if (request.instructions != null && request.instructions !== '') {
    push({ role: 'system', content: request.instructions }, 'instructions');
  }
  const add = (item: HistoryItem, origin: MessageOrigin, param: string | undefined) => {
    switch (item.type) {
      case 'message': {
        if (item.role === 'assistant') {
          // Function calls that follow join this message (see function_call), as one chat turn.
          push({ role: 'assistant', content: assistantText(item.content, param) }, origin);
          return;
        }
        push(userLikeMessage(item.role ?? 'user', item.content, param), origin);
        return;
      }
      case 'function_call': {
        const call = {
          id: item.call_id,
          type: 'function' as const,
          function: { name: item.name, arguments: item.arguments },
        };
        const last = messages.at(-1);
        if (last?.role !== 'assistant') push({ role: 'assistant', content: null }, origin);
        const assistant = messages.at(-1) as OpenAIAssistantMessage;
        assistant.tool_calls = [...(assistant.tool_calls ?? []), call];
        calls.set(`${messages.length - 1}:${assistant.tool_calls.length - 1}`, origin);
        return;
      }
      case 'function_call_output':
        outputs.add(messages.length);
        push({ role: 'tool', tool_call_id: item.call_id as string, content: toolOutput(item.output, param) }, origin);
        return;
      case 'item_reference':
        throw new Error('item references are resolved before translation (ResponseStore.resolveReferences)');
      default:
        // Reasoning items: neither upstream takes an earlier turn's reasoning as input.
        return;
    }
  };
  for (const item of history) add(item, 'previous_response_id', undefined);
  for (const [index, item] of request.input.entries()) add(item, `input[${index}]`, `input[${index}]`);
  if (messages.every((message) => message.role === 'system')) {
    throw new BadRequestError('The input has no message for the model to answer.', { param: 'input' });
  }
  return { request: chatRequest(request, messages, stream), origins, calls, outputs };
}

function chatRequest(request: ResponsesRequest, messages: OpenAIMessage[], stream: boolean): OpenAIChatRequest {
  const chat: OpenAIChatRequest = stream
    ? { model: request.model, messages, stream: true, stream_options: { include_usage: true } }
    : { model: request.model, messages };
  if (request.max_output_tokens != null) chat.max_completion_tokens = request.max_output_tokens;
  if (request.temperature != null) chat.temperature = request.temperature;
  if (request.top_p != null) chat.top_p = request.top_p;
  if (request.user != null) chat.user = request.user;
  if (request.parallel_tool_calls != null) chat.parallel_tool_calls = request.parallel_tool_calls;
  if (request.reasoning?.effort != null) chat.reasoning_effort = request.reasoning.effort;
  if (request.prompt_cache_key != null) chat.prompt_cache_key = request.prompt_cache_key;
  if (request.text?.verbosity != null) chat.verbosity = request.text.verbosity;
  const format = request.text?.format;
  if (format !== undefined) {
    chat.response_format =
      format.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              schema: format.schema,
              ...(format.description === undefined ? {} : { description: format.description }),
              ...(format.strict == null ? {} : { strict: format.strict }),
            },
          }
        : { type: format.type };
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    chat.tools = request.tools.map((tool) => {
      if (tool.type !== 'function') throw new Error('the schema admits function tools only');
      return {
        type: 'function',
        function: {
          name: tool.name,
          ...(tool.description == null ? {} : { description: tool.description }),
          ...(tool.parameters == null ? {} : { parameters: tool.parameters }),
          ...(tool.strict == null ? {} : { strict: tool.strict }),
        },
      };
    });
  }
  const choice = request.tool_choice;
  if (typeof choice === 'string') chat.tool_choice = choice;
  else if (choice?.type === 'function') chat.tool_choice = { type: 'function', function: { name: choice.name } };
  else if (choice?.type === 'allowed_tools') {
    chat.tool_choice = {
      type: 'allowed_tools',
      allowed_tools: {
        mode: choice.mode,
        tools: choice.tools.map((tool) => ({ type: 'function', function: { name: String(tool.name) } })),
      },
    };
  }
  return chat;
}

type MessageContent = string | ReadonlyArray<{ type: string; text?: string; refusal?: string }>;

function assistantText(content: MessageContent, param: string | undefined): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const [index, part] of content.entries()) {
    if (part.type === 'output_text' || part.type === 'input_text') text += part.text ?? '';
    else if (part.type === 'refusal') text += part.refusal ?? '';
    else refuse(`An assistant message takes output_text parts, not ${part.type}.`, param, `content[${index}].type`);
  }
  return text;
}

function userLikeMessage(
  role: 'user' | 'system' | 'developer',
  content: MessageContent,
  param: string | undefined,
): OpenAIMessage {
  if (typeof content === 'string') return { role, content };
  const parts = content.map((part, index) => inputPart(part as OpenAIResponseInputContent, param, `content[${index}]`));
  if (role === 'user') return { role, content: parts };
  const texts = parts.map((part, index) => {
    if (part.type !== 'text') refuse(`A ${role} message takes input_text parts only.`, param, `content[${index}].type`);
    return part as { type: 'text'; text: string };
  });
  return { role, content: texts };
}

/** One input content part → a chat content part (attachments are the providers' work, as on chat). */
function inputPart(part: OpenAIResponseInputContent, param: string | undefined, at: string): OpenAIContentPart {
  switch (part.type) {
    case 'input_text':
      return { type: 'text', text: part.text };
    case 'input_image': {
      if (part.image_url != null && part.image_url !== '') {
        const detail = part.detail === 'low' || part.detail === 'high' ? part.detail : 'auto';
        return { type: 'image_url', image_url: { url: part.image_url, detail } };
      }
      if (part.file_id != null && part.file_id !== '') return { type: 'file', file: { file_id: part.file_id } };
      return refuse('An input_image needs an image_url or a file_id.', param, `${at}.image_url`);
    }
    case 'input_file': {
      if (part.file_url !== undefined) {
        return refuse(
          'file_url is not supported by this gateway: send file_data, or upload the file (POST /v1/files) and send its file_id.',
          param,
          `${at}.file_url`,
          'unsupported_parameter',
        );
      }
      const filename = part.filename === undefined ? {} : { filename: part.filename };
      if (part.file_data !== undefined) return { type: 'file', file: { file_data: part.file_data, ...filename } };
      if (part.file_id != null && part.file_id !== '')
        return { type: 'file', file: { file_id: part.file_id, ...filename } };
      return refuse('An input_file needs file_data or a file_id.', param, `${at}.file_data`);
    }
    default:
      return refuse(
        `A user message takes input_text, input_image and input_file parts, not ${(part as { type: string }).type}.`,
        param,
        `${at}.type`,
      );
  }
}

function toolOutput(output: MessageContent, param: string | undefined): string {
  if (typeof output === 'string') return output;
  let text = '';
  for (const [index, part] of output.entries()) {
    if (part.type !== 'input_text') {
      refuse(
        'A function_call_output takes text only with these models.',
        param,
        `output[${index}].type`,
        'unsupported_content',
      );
    }
    text += part.text ?? '';
  }
  return text;
}

function refuse(message: string, param: string | undefined, at: string, code?: string): never {
  throw new BadRequestError(message, { param: param === undefined ? 'previous_response_id' : `${param}.${at}`, code });
}

/** Chat parameter names → the Responses fields they came from. */
const RENAMED: ReadonlyArray<[RegExp, string]> = [
  [/^response_format(?=\.|$)(\.json_schema)?/, 'text.format'],
  [/^max_completion_tokens$/, 'max_output_tokens'],
  [/^reasoning_effort$/, 'reasoning.effort'],
  [/^verbosity$/, 'text.verbosity'],
  [/^(tools\[\d+\])\.function/, '$1'],
  [/^tool_choice\.function/, 'tool_choice'],
];

/**
 * An error a provider raised about the chat request, naming the Responses field instead, in its
 * `param` and its message: `messages[3].content[1].image_url.url` → `input[2].content[1].image_url`.
 */
export function renameChatParam(error: unknown, where: ParamOrigins): unknown {
  if (!(error instanceof GatewayError)) return error;
  error.message = error.message.replace(CHAT_PATH, (path) => chatParamToResponses(path, where));
  if (error.param === null) return error;
  const param = chatParamToResponses(error.param, where);
  if (param !== error.param) Object.defineProperty(error, 'param', { value: param });
  return error;
}

/** A chat message path as error messages quote it. */
const CHAT_PATH = /\bmessages(?:\[\d+\](?:\.[A-Za-z_]+|\[\d+\])*)?/g;

/** Paths inside a chat message → the same field of the Responses item. */
const INSIDE_MESSAGE: ReadonlyArray<[RegExp, string]> = [
  [/^\.tool_call_id/, '.call_id'],
  [/^(\.content\[\d+\])\.image_url\.url$/, '$1.image_url'],
  [/^(\.content\[\d+\])\.file(?:\.(\w+))?/, '$1.$2'],
];

/** Paths inside a tool call → the function_call item's fields. */
const INSIDE_CALL: ReadonlyArray<[RegExp, string]> = [
  [/^\.function\.(arguments|name)/, '.$1'],
  [/^\.function$/, ''],
  [/^\.id$/, '.call_id'],
];

export function chatParamToResponses(param: string, where: ParamOrigins): string {
  if (param === 'messages') return 'input';
  const message = /^messages\[(\d+)\](.*)$/.exec(param);
  if (message === null) return replaceFirst(param, RENAMED);
  const index = Number(message[1]);
  const origin = where.origins[index] ?? 'input';
  if (!origin.startsWith('input[')) return origin;
  const rest = message[2] ?? '';
  const call = /^\.tool_calls\[(\d+)\](.*)$/.exec(rest);
  if (call !== null) {
    const item = where.calls.get(`${index}:${call[1]}`) ?? origin;
    return `${item}${replaceFirst(call[2] ?? '', INSIDE_CALL)}`;
  }
  if (where.outputs.has(index) && rest.startsWith('.content'))
    return `${origin}.output${rest.slice('.content'.length)}`;
  return `${origin}${replaceFirst(rest, INSIDE_MESSAGE)}`.replace(/\.$/, '');
}

function replaceFirst(path: string, rules: ReadonlyArray<[RegExp, string]>): string {
  for (const [pattern, replacement] of rules) if (pattern.test(path)) return path.replace(pattern, replacement);
  return path;
}
