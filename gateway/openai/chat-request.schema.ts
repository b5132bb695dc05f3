import type { OpenAIChatRequest } from './types.ts';
import { compileValidator, FUNCTION_NAME, nullable } from './validate.ts';

/*
 * The OpenAI Chat Completions request as a JSON Schema. Top-level arguments are strict, as in
 * OpenAI's API ("Unrecognized request argument supplied"); message objects may carry extra fields
 * because clients echo whole response messages back into the history.
 */

const textPart = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { const: 'text' }, text: { type: 'string' } },
};

const contentPart = {
  type: 'object',
  discriminator: { propertyName: 'type' },
  oneOf: [
    textPart,
    {
      type: 'object',
      required: ['type', 'image_url'],
      properties: {
        type: { const: 'image_url' },
        image_url: {
          type: 'object',
          required: ['url'],
          properties: { url: { type: 'string' }, detail: { enum: ['auto', 'low', 'high'] } },
        },
      },
    },
    {
      type: 'object',
      required: ['type', 'input_audio'],
      properties: { type: { const: 'input_audio' }, input_audio: { type: 'object' } },
    },
    {
      type: 'object',
      required: ['type', 'file'],
      properties: { type: { const: 'file' }, file: { type: 'object' } },
    },
  ],
};

const assistantPart = {
  type: 'object',
  discriminator: { propertyName: 'type' },
  oneOf: [
    textPart,
    {
      type: 'object',
      required: ['type', 'refusal'],
      properties: { type: { const: 'refusal' }, refusal: { type: 'string' } },
    },
  ],
};

const functionCall = {
  type: 'object',
  required: ['name', 'arguments'],
  properties: { name: { type: 'string' }, arguments: { type: 'string' } },
};

const toolCall = {
  type: 'object',
  required: ['id', 'type', 'function'],
  properties: {
    id: { type: 'string' },
    type: { const: 'function' },
    function: functionCall,
  },
};

const message = {
  type: 'object',
  discriminator: { propertyName: 'role' },
  oneOf: [
    {
      type: 'object',
      required: ['role', 'content'],
      properties: {
        role: { const: 'system' },
        content: { type: ['string', 'array'], items: textPart },
        name: { type: 'string' },
      },
    },
    {
      type: 'object',
      required: ['role', 'content'],
      properties: {
        role: { const: 'developer' },
        content: { type: ['string', 'array'], items: textPart },
        name: { type: 'string' },
      },
    },
    {
      type: 'object',
      required: ['role', 'content'],
      properties: {
        role: { const: 'user' },
        content: { type: ['string', 'array'], items: contentPart },
        name: { type: 'string' },
      },
    },
    {
      type: 'object',
      required: ['role'],
      properties: {
        role: { const: 'assistant' },
        content: { type: ['string', 'array', 'null'], items: assistantPart },
        name: { type: 'string' },
        refusal: { type: nullable('string') },
        tool_calls: { type: 'array', items: toolCall },
        function_call: { ...functionCall, type: nullable('object') },
      },
    },
    {
      type: 'object',
      required: ['role', 'content', 'tool_call_id'],
      properties: {
        role: { const: 'tool' },
        content: { type: ['string', 'array'], items: textPart },
        tool_call_id: { type: 'string' },
      },
    },
    {
      type: 'object',
      required: ['role', 'name'],
      properties: {
        role: { const: 'function' },
        content: { type: nullable('string') },
        name: { type: 'string' },
      },
    },
  ],
};

const functionDefinition = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: FUNCTION_NAME },
    description: { type: 'string' },
    parameters: { type: 'object' },
    strict: { type: nullable('boolean') },
  },
};

const tool = {
  type: 'object',
  discriminator: { propertyName: 'type' },
  oneOf: [
    {
      type: 'object',
      required: ['type', 'function'],
      properties: { type: { const: 'function' }, function: functionDefinition },
    },
    {
      type: 'object',
      required: ['type', 'custom'],
      properties: { type: { const: 'custom' }, custom: { type: 'object' } },
    },
  ],
};

const toolChoice = {
  description: 'expected \'none\', \'auto\', \'required\' or {"type": "function", "function": {"name": …}}',
  anyOf: [
    { enum: ['none', 'auto', 'required'] },
    {
      type: 'object',
      required: ['type', 'function'],
      properties: {
        type: { const: 'function' },
        function: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
      },
    },
    {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['allowed_tools', 'custom'] } },
    },
  ],
};

const responseFormat = {
  type: 'object',
  discriminator: { propertyName: 'type' },
  oneOf: [
    { type: 'object', required: ['type'], properties: { type: { const: 'text' } } },
    { type: 'object', required: ['type'], properties: { type: { const: 'json_object' } } },
    {
      type: 'object',
      required: ['type', 'json_schema'],
      properties: {
        type: { const: 'json_schema' },
        json_schema: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', pattern: FUNCTION_NAME },
            description: { type: 'string' },
            schema: { type: 'object' },
            strict: { type: nullable('boolean') },
          },
        },
      },
    },
  ],
};

export const chatRequestSchema = {
  type: 'object',
  required: ['model', 'messages'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1 },
    messages: { type: 'array', minItems: 1, items: message },
    audio: { type: nullable('object') },
    frequency_penalty: { type: nullable('number'), minimum: -2, maximum: 2 },
    function_call: {
      description: "expected 'none', 'auto' or {\"name\": …}",
      anyOf: [
        { enum: ['none', 'auto'] },
        { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
      ],
    },
    functions: { type: 'array', items: functionDefinition },
    logit_bias: { type: nullable('object'), additionalProperties: { type: 'number' } },
    logprobs: { type: nullable('boolean') },
    max_completion_tokens: { type: nullable('integer'), minimum: 1 },
    max_tokens: { type: nullable('integer'), minimum: 1 },
    metadata: { type: nullable('object'), additionalProperties: { type: 'string' } },
    modalities: { type: nullable('array'), items: { enum: ['text', 'audio'] } },
    moderation: { type: nullable('object') },
    n: { type: nullable('integer'), minimum: 1, maximum: 128 },
    parallel_tool_calls: { type: 'boolean' },
    prediction: { type: nullable('object') },
    presence_penalty: { type: nullable('number'), minimum: -2, maximum: 2 },
    prompt_cache_key: { type: nullable('string') },
    prompt_cache_options: { type: nullable('object') },
    prompt_cache_retention: { type: nullable('string') },
    reasoning_effort: { enum: ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max', null] },
    response_format: responseFormat,
    safety_identifier: { type: nullable('string') },
    seed: { type: nullable('integer') },
    service_tier: { type: nullable('string') },
    stop: { type: ['string', 'array', 'null'], items: { type: 'string' }, maxItems: 4 },
    store: { type: nullable('boolean') },
    stream: { type: nullable('boolean') },
    stream_options: {
      type: nullable('object'),
      additionalProperties: false,
      properties: { include_usage: { type: 'boolean' }, include_obfuscation: { type: 'boolean' } },
    },
    temperature: { type: nullable('number'), minimum: 0, maximum: 2 },
    tool_choice: toolChoice,
    tools: { type: 'array', items: tool },
    top_logprobs: { type: nullable('integer'), minimum: 0, maximum: 20 },
    top_p: { type: nullable('number'), minimum: 0, maximum: 1 },
    user: { type: 'string' },
    verbosity: { enum: ['low', 'medium', 'high', null] },
    web_search_options: { type: 'object' },
    // GigaChat extras; the OpenAI SDKs put `extra_body` fields at the top level.
    repetition_penalty: { type: nullable('number'), exclusiveMinimum: 0 },
    profanity_check: { type: nullable('boolean') },
    update_interval: { type: nullable('number'), minimum: 0 },
  },
};

/** Checks a Chat Completions body; throws a 400 naming the offending parameter. */
export const validateChatRequest = compileValidator<OpenAIChatRequest>(chatRequestSchema);
