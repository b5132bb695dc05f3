import { createHash } from 'node:crypto';
import { BadRequestError } from '../../openai/errors.ts';
import type { OpenAIChatRequest, OpenAIFunctionTool, OpenAIMessage } from '../../openai/types.ts';
import { normalizeGigaChatSchema } from './function-schema.ts';
import type { GigaChatChatRequest, GigaChatFunction, GigaChatMessage } from './wire-types.ts';

/** What one OpenAI request becomes on the GigaChat side. */
export interface GigaChatRequestPlan {
  body: GigaChatChatRequest;
  /** Extra request headers (`X-Session-ID` for GigaChat's prompt cache). */
  headers: Record<string, string>;
  /** OpenAI `stop` sequences; GigaChat has none, so the gateway cuts the answer itself. */
  stop: string[];
}

/** OpenAI Chat Completions request → GigaChat v1 request. Throws 400 for what GigaChat cannot do. */
export function translateGigaChatRequest(request: OpenAIChatRequest): GigaChatRequestPlan {
  rejectUnsupported(request);
  const body: GigaChatChatRequest = { model: request.model, messages: translateGigaChatMessages(request.messages) };
  if (request.temperature === 0) {
    // GigaChat wants temperature > 0; greedy decoding is expressed as top_p 0 (as gpt2giga and LiteLLM do).
    body.top_p = 0;
  } else {
    if (request.temperature != null) body.temperature = request.temperature;
    if (request.top_p != null) body.top_p = request.top_p;
  }
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) body.max_tokens = maxTokens;
  if (request.repetition_penalty != null) body.repetition_penalty = request.repetition_penalty;
  if (request.profanity_check != null) body.profanity_check = request.profanity_check;
  if (request.update_interval != null) body.update_interval = request.update_interval;
  const effort = request.reasoning_effort;
  if (effort != null && effort !== 'none') {
    body.reasoning_effort = effort === 'minimal' ? 'low' : effort === 'xhigh' || effort === 'max' ? 'high' : effort;
  }
  Object.assign(body, translateFunctions(request));
  if (request.response_format?.type === 'json_schema') {
    const { schema, strict } = request.response_format.json_schema;
    body.response_format = { type: 'json_schema', schema: objectSchema(schema, 'response_format.json_schema.schema') };
    if (strict != null) body.response_format.strict = strict;
  }
  const stop = request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop;
  const headers: Record<string, string> = {};
  if (request.prompt_cache_key != null && request.prompt_cache_key !== '') {
    headers['x-session-id'] = sessionId(request.prompt_cache_key);
  }
  return { body, headers, stop: stop.filter((sequence) => sequence !== '') };
}

function rejectUnsupported(request: OpenAIChatRequest): void {
  const reject = (param: string, message: string): never => {
    throw new BadRequestError(message, { param, code: 'unsupported_parameter' });
  };
  if (request.n != null && request.n !== 1) reject('n', 'GigaChat returns one choice per request: n must be 1.');
  if (request.logprobs === true) reject('logprobs', 'GigaChat does not return log probabilities.');
  if (request.top_logprobs != null && request.top_logprobs > 0) {
    reject('top_logprobs', 'GigaChat does not return log probabilities.');
  }
  if (request.logit_bias != null && Object.keys(request.logit_bias).length > 0) {
    reject('logit_bias', 'GigaChat does not support logit_bias.');
  }
  for (const param of ['presence_penalty', 'frequency_penalty'] as const) {
    const value = request[param];
    if (value != null && value !== 0) {
      reject(param, `GigaChat has no ${param}; use repetition_penalty (GigaChat's own, 1.0 means none) instead.`);
    }
  }
  if (request.audio != null || request.modalities?.includes('audio')) {
    reject(request.audio != null ? 'audio' : 'modalities', 'GigaChat answers with text only.');
  }
  if (request.web_search_options !== undefined) {
    reject('web_search_options', 'Web search is not available for GigaChat through this gateway.');
  }
  if (request.response_format?.type === 'json_object') {
    reject(
      'response_format',
      "GigaChat has no schema-less JSON mode: use response_format {type: 'json_schema'} with a schema.",
    );
  }
  if (request.tools !== undefined && request.functions !== undefined) {
    reject('functions', "Send either 'tools' or the legacy 'functions', not both.");
  }
  for (const [index, tool] of (request.tools ?? []).entries()) {
    if (tool.type !== 'function') reject(`tools[${index}].type`, 'GigaChat supports function tools only.');
  }
}

/** GigaChat wants an object schema at the root of parameters and structured output, as OpenAI does. */
function objectSchema(schema: Record<string, unknown> | undefined, param: string): Record<string, unknown> {
  if (schema?.type !== undefined && schema.type !== 'object') {
    throw new BadRequestError(`The schema must describe an object (type 'object'), not '${String(schema.type)}'.`, {
      param,
    });
  }
  return normalizeGigaChatSchema(schema);
}

function translateFunctions(request: OpenAIChatRequest): Pick<GigaChatChatRequest, 'functions' | 'function_call'> {
  // rejectUnsupported has already refused non-function tools.
  const fromTools = request.tools !== undefined;
  const definitions = request.tools?.map((tool) => (tool as OpenAIFunctionTool).function) ?? request.functions ?? [];
  const choice = request.tool_choice ?? request.function_call;
  const param = request.tool_choice === undefined ? 'function_call' : 'tool_choice';
  if (definitions.length === 0) {
    if (choice === undefined || choice === 'auto' || choice === 'none') return {};
    throw new BadRequestError(`'${param}' asks for a tool call, but the request has no tools.`, { param });
  }
  const functions: GigaChatFunction[] = definitions.map((definition, index) => ({
    name: definition.name,
    ...(definition.description === undefined ? {} : { description: definition.description }),
    parameters: objectSchema(
      definition.parameters,
      fromTools ? `tools[${index}].function.parameters` : `functions[${index}].parameters`,
    ),
  }));
  const names = new Set(functions.map((definition) => definition.name));
  if (choice === undefined || choice === 'auto') return { functions };
  if (choice === 'none') return { functions, function_call: 'none' };
  if (choice === 'required') {
    const only = functions.length === 1 ? functions[0] : undefined;
    if (only === undefined) {
      throw new BadRequestError(
        "GigaChat can force one named function but not 'any of several': name the tool in tool_choice, or send one tool.",
        { param, code: 'unsupported_parameter' },
      );
    }
    return { functions, function_call: { name: only.name } };
  }
  const name = 'function' in choice ? choice.function.name : 'name' in choice ? choice.name : undefined;
  if (name === undefined) {
    throw new BadRequestError(`GigaChat supports tool_choice 'none', 'auto', 'required' or a named function.`, {
      param,
      code: 'unsupported_parameter',
    });
  }
  if (!names.has(name)) {
    throw new BadRequestError(`${param} names '${name}', which is not among the tools.`, { param });
  }
  return { functions, function_call: { name } };
}

/** The text of a message's content; non-text parts are refused with the part's path. */
type ContentPart = { type: string; text?: string; refusal?: string };

function contentText(content: string | readonly ContentPart[] | null | undefined, param: string): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  for (const [index, part] of content.entries()) {
    if (part.type === 'text') texts.push(part.text ?? '');
    else if (part.type === 'refusal') texts.push(part.refusal ?? '');
    else {
      throw new BadRequestError(
        `GigaChat accepts text content only through this gateway; '${part.type}' parts are not supported.`,
        { param: `${param}[${index}].type`, code: 'unsupported_content' },
      );
    }
  }
  return texts.join('\n');
}

/** GigaChat wants function results as a JSON object string; anything else is wrapped as {"result": …}. */
function functionResult(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return text;
    return JSON.stringify({ result: parsed });
  } catch {
    return JSON.stringify({ result: text });
  }
}

function parseArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequestError(`The function arguments are not valid JSON.`, { param });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequestError('The function arguments must be a JSON object.', { param });
  }
  return parsed as Record<string, unknown>;
}

/**
 * OpenAI messages → GigaChat messages. GigaChat allows one system message, first; one function
 * call per assistant message, each followed by its result; roles `function` for results.
 */
export function translateGigaChatMessages(messages: readonly OpenAIMessage[]): GigaChatMessage[] {
  const output: GigaChatMessage[] = [];
  const push = (message: GigaChatMessage): void => {
    const last = output.at(-1);
    const mergeable = (entry: GigaChatMessage) =>
      entry.role === 'user' || (entry.role === 'assistant' && entry.function_call === undefined);
    if (last !== undefined && last.role === message.role && mergeable(last) && mergeable(message)) {
      last.content = last.content === '' ? message.content : `${last.content}\n\n${message.content}`;
    } else {
      output.push(message);
    }
  };
  let index = 0;
  const system: string[] = [];
  // Leading system/developer messages become GigaChat's single system message; later ones speak as the user.
  for (; index < messages.length; index++) {
    const message = messages[index] as OpenAIMessage;
    if (message.role !== 'system' && message.role !== 'developer') break;
    system.push(contentText(message.content, `messages[${index}].content`));
  }
  if (system.length > 0) output.push({ role: 'system', content: system.join('\n\n') });

  const callNames = new Map<string, string>();
  for (; index < messages.length; index++) {
    const message = messages[index] as OpenAIMessage;
    const param = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
      case 'user':
        push({ role: 'user', content: contentText(message.content, `${param}.content`) });
        break;
      case 'function':
        push({ role: 'function', name: message.name, content: functionResult(message.content ?? '') });
        break;
      case 'tool': {
        const name = callNames.get(message.tool_call_id);
        if (name === undefined) {
          throw new BadRequestError(`No earlier assistant tool call has the id '${message.tool_call_id}'.`, {
            param: `${param}.tool_call_id`,
          });
        }
        push({ role: 'function', name, content: functionResult(contentText(message.content, `${param}.content`)) });
        break;
      }
      case 'assistant':
        index = translateAssistant(messages, index, push, callNames);
        break;
    }
  }
  return output;
}

/**
 * One assistant message. With several tool calls, GigaChat (one call per message) gets them as
 * consecutive call/result pairs, each result taken from the tool messages that follow.
 * Returns the index of the last message consumed.
 */
function translateAssistant(
  messages: readonly OpenAIMessage[],
  index: number,
  push: (message: GigaChatMessage) => void,
  callNames: Map<string, string>,
): number {
  const message = messages[index] as Extract<OpenAIMessage, { role: 'assistant' }>;
  const param = `messages[${index}]`;
  const content = contentText(message.content, `${param}.content`);
  const calls = (message.tool_calls ?? []).flatMap((call) => (call.type === 'function' ? [call] : []));
  if (calls.length === 0) {
    if (message.function_call != null) {
      const { name, arguments: args } = message.function_call;
      push({
        role: 'assistant',
        content,
        function_call: { name, arguments: parseArguments(args, `${param}.function_call.arguments`) },
      });
    } else {
      push({ role: 'assistant', content });
    }
    return index;
  }
  const results = new Map<string, { message: OpenAIMessage; index: number }>();
  let last = index;
  for (let next = index + 1; next < messages.length && messages[next]?.role === 'tool'; next++) {
    const result = messages[next] as Extract<OpenAIMessage, { role: 'tool' }>;
    if (results.has(result.tool_call_id)) {
      throw new BadRequestError(`A second tool message answers the tool call '${result.tool_call_id}'.`, {
        param: `messages[${next}].tool_call_id`,
      });
    }
    results.set(result.tool_call_id, { message: result, index: next });
    last = next;
  }
  for (const [callIndex, call] of calls.entries()) {
    const callParam = `${param}.tool_calls[${callIndex}]`;
    callNames.set(call.id, call.function.name);
    push({
      role: 'assistant',
      content: callIndex === 0 ? content : '',
      function_call: {
        name: call.function.name,
        arguments: parseArguments(call.function.arguments, `${callParam}.function.arguments`),
      },
    });
    const result = results.get(call.id);
    if (result === undefined) {
      throw new BadRequestError(
        `The tool call '${call.id}' has no tool message answering it; GigaChat needs every function call's result in the history.`,
        { param: callParam },
      );
    }
    results.delete(call.id);
    const resultContent = result.message.content as string | ContentPart[];
    push({
      role: 'function',
      name: call.function.name,
      content: functionResult(contentText(resultContent, `messages[${result.index}].content`)),
    });
  }
  const stray = results.values().next().value;
  if (stray !== undefined) {
    throw new BadRequestError(`No tool call of the preceding assistant message has this id.`, {
      param: `messages[${stray.index}].tool_call_id`,
    });
  }
  return last;
}

/** GigaChat's prompt cache is keyed by X-Session-ID; a stable UUID-shaped digest keeps the header safe. */
function sessionId(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
