import { createHash } from 'node:crypto';
import { BadRequestError } from '../../openai/errors.ts';
import type { OpenAIChatRequest, OpenAIFunctionTool } from '../../openai/types.ts';
import { showValue } from '../../openai/validate.ts';
import { normalizeGigaChatSchema } from './function-schema.ts';
import { translateGigaChatMessages } from './translate-messages.ts';
import type { GigaChatChatRequest, GigaChatFunction } from './wire-types.ts';

/** What one OpenAI request becomes on the GigaChat side. */
export interface GigaChatRequestPlan {
  body: GigaChatChatRequest;
  /** Extra request headers (`X-Session-ID` for GigaChat's prompt cache). */
  headers: Record<string, string>;
  /** OpenAI `stop` sequences; GigaChat has none, so the gateway cuts the answer itself. */
  stop: string[];
}

/**
 * OpenAI Chat Completions request → GigaChat v1 request, its user messages' files already uploaded
 * (`attachments`: file ids by content part). Throws 400 for what GigaChat cannot do.
 */
export function translateGigaChatRequest(
  request: OpenAIChatRequest,
  attachments?: ReadonlyMap<string, string>,
): GigaChatRequestPlan {
  rejectUnsupported(request);
  const body: GigaChatChatRequest = {
    model: request.model,
    messages: translateGigaChatMessages(request.messages, attachments),
  };
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
    throw new BadRequestError(`The schema must describe an object (type 'object'), not '${showValue(schema.type)}'.`, {
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

/** GigaChat's prompt cache is keyed by X-Session-ID; a stable UUID-shaped digest keeps the header safe. */
function sessionId(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
