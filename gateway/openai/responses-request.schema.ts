import { BadRequestError } from './errors.ts';
import type { OpenAIResponseInputItem, OpenAIResponsesRequestBase } from './types.ts';
import { compileValidator, FUNCTION_NAME, nullable } from './validate.ts';

/*
 * The OpenAI Responses request (`POST /v1/responses`) as a JSON Schema. As on chat, top-level
 * arguments are strict: a field this gateway cannot honour (`conversation`, `prompt`, hosted tools,
 * `max_tool_calls`…) is refused by name rather than ignored. Items may carry extra fields, because
 * clients send a response's output items back whole (with `id` and `status`).
 */

const inputText = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { const: 'input_text' }, text: { type: 'string' } },
};

const inputImage = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { const: 'input_image' },
    image_url: { type: nullable('string') },
    file_id: { type: nullable('string') },
    detail: { enum: ['auto', 'low', 'high', 'original'] },
  },
};

const inputFile = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { const: 'input_file' },
    file_data: { type: 'string' },
    file_id: { type: nullable('string') },
    file_url: { type: 'string' },
    filename: { type: 'string' },
    detail: { enum: ['auto', 'low', 'high'] },
  },
};

const outputText = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { const: 'output_text' }, text: { type: 'string' }, annotations: { type: 'array' } },
};

const refusal = {
  type: 'object',
  required: ['type', 'refusal'],
  properties: { type: { const: 'refusal' }, refusal: { type: 'string' } },
};

const messageItem = {
  type: 'object',
  required: ['type', 'role', 'content'],
  properties: {
    type: { const: 'message' },
    role: { enum: ['user', 'assistant', 'system', 'developer'] },
    content: {
      type: ['string', 'array'],
      items: {
        type: 'object',
        discriminator: { propertyName: 'type' },
        oneOf: [inputText, inputImage, inputFile, outputText, refusal],
      },
    },
  },
};

const functionCallItem = {
  type: 'object',
  required: ['type', 'call_id', 'name', 'arguments'],
  properties: {
    type: { const: 'function_call' },
    call_id: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1 },
    arguments: { type: 'string' },
  },
};

const functionCallOutputItem = {
  type: 'object',
  required: ['type', 'call_id', 'output'],
  properties: {
    type: { const: 'function_call_output' },
    call_id: { type: 'string', minLength: 1 },
    output: {
      type: ['string', 'array'],
      items: {
        type: 'object',
        discriminator: { propertyName: 'type' },
        oneOf: [inputText, inputImage, inputFile],
      },
    },
  },
};

// Reasoning a client sends back is accepted and left out: neither upstream takes another turn's reasoning as input.
const reasoningItem = {
  type: 'object',
  required: ['type'],
  properties: { type: { const: 'reasoning' }, summary: { type: 'array' }, content: { type: 'array' } },
};

// An output item of a stored response, by id (the Vercel AI SDK sends these when store is on).
const itemReference = {
  type: 'object',
  required: ['type', 'id'],
  properties: { type: { const: 'item_reference' }, id: { type: 'string', minLength: 1 } },
};

const functionTool = {
  type: 'object',
  required: ['type', 'name'],
  properties: {
    type: { const: 'function' },
    name: { type: 'string', pattern: FUNCTION_NAME },
    description: { type: nullable('string') },
    parameters: { type: nullable('object') },
    strict: { type: nullable('boolean') },
  },
};

const toolChoice = {
  description:
    'expected \'none\', \'auto\', \'required\', {"type": "function", "name": …} or {"type": "allowed_tools", …}',
  anyOf: [
    { enum: ['none', 'auto', 'required'] },
    {
      type: 'object',
      required: ['type', 'name'],
      properties: { type: { const: 'function' }, name: { type: 'string' } },
    },
    {
      type: 'object',
      required: ['type', 'mode', 'tools'],
      properties: {
        type: { const: 'allowed_tools' },
        mode: { enum: ['auto', 'required'] },
        tools: {
          type: 'array',
          items: {
            type: 'object',
            required: ['type', 'name'],
            properties: { type: { const: 'function' }, name: { type: 'string' } },
          },
        },
      },
    },
  ],
};

const textFormat = {
  type: 'object',
  discriminator: { propertyName: 'type' },
  oneOf: [
    { type: 'object', required: ['type'], properties: { type: { const: 'text' } } },
    { type: 'object', required: ['type'], properties: { type: { const: 'json_object' } } },
    {
      type: 'object',
      required: ['type', 'name', 'schema'],
      properties: {
        type: { const: 'json_schema' },
        name: { type: 'string', pattern: FUNCTION_NAME },
        description: { type: 'string' },
        schema: { type: 'object' },
        strict: { type: nullable('boolean') },
      },
    },
  ],
};

export const responsesRequestSchema = {
  type: 'object',
  required: ['model', 'input'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1 },
    input: {
      type: ['string', 'array'],
      minItems: 1,
      items: {
        type: 'object',
        discriminator: { propertyName: 'type' },
        oneOf: [messageItem, functionCallItem, functionCallOutputItem, reasoningItem, itemReference],
      },
    },
    instructions: { type: nullable('string') },
    background: { type: nullable('boolean') },
    // Codex CLI sends its own name and version here; nothing for the gateway to act on.
    client_metadata: { type: nullable('object') },
    include: {
      type: nullable('array'),
      items: {
        enum: [
          'reasoning.encrypted_content',
          'message.output_text.logprobs',
          'message.input_image.image_url',
          'file_search_call.results',
          'web_search_call.results',
          'web_search_call.action.sources',
          'code_interpreter_call.outputs',
          'computer_call_output.output.image_url',
        ],
      },
    },
    max_output_tokens: { type: nullable('integer'), minimum: 1 },
    metadata: {
      type: nullable('object'),
      maxProperties: 16,
      propertyNames: { maxLength: 64 },
      additionalProperties: { type: 'string', maxLength: 512 },
    },
    parallel_tool_calls: { type: nullable('boolean') },
    previous_response_id: { type: nullable('string'), minLength: 1 },
    prompt_cache_key: { type: nullable('string') },
    prompt_cache_retention: { enum: ['in_memory', '24h', null] },
    reasoning: {
      type: nullable('object'),
      additionalProperties: false,
      properties: {
        effort: { enum: ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max', null] },
        summary: { enum: ['auto', 'concise', 'detailed', null] },
        generate_summary: { enum: ['auto', 'concise', 'detailed', null] },
      },
    },
    safety_identifier: { type: nullable('string') },
    service_tier: { enum: ['auto', 'default', 'flex', 'scale', 'priority', null] },
    store: { type: nullable('boolean') },
    stream: { type: nullable('boolean') },
    stream_options: {
      type: nullable('object'),
      additionalProperties: false,
      properties: { include_obfuscation: { type: 'boolean' } },
    },
    temperature: { type: nullable('number'), minimum: 0, maximum: 2 },
    text: {
      type: 'object',
      additionalProperties: false,
      properties: { format: textFormat, verbosity: { enum: ['low', 'medium', 'high', null] } },
    },
    tool_choice: toolChoice,
    tools: { type: 'array', items: { type: 'object', discriminator: { propertyName: 'type' }, oneOf: [functionTool] } },
    top_p: { type: nullable('number'), minimum: 0, maximum: 1 },
    truncation: { enum: ['auto', 'disabled', null] },
    user: { type: nullable('string') },
  },
};

export type ResponsesInputItem = Extract<
  OpenAIResponseInputItem,
  { type?: 'message' | 'function_call' | 'function_call_output' | 'reasoning' | 'item_reference' | null }
>;

/** A Responses request after validation: the input is always a list of typed items. */
export type ResponsesRequest = Omit<OpenAIResponsesRequestBase, 'input' | 'model'> & {
  model: string;
  input: ResponsesInputItem[];
};

const validate = compileValidator<ResponsesRequest & { input: string | ResponsesInputItem[] }>(responsesRequestSchema);

/**
 * Checks a Responses body; throws a 400 naming the offending parameter. A string input becomes one
 * user message; items without `type` get theirs: a message (OpenAI's "easy" form) when it has a
 * role, else an item reference when it has an id.
 */
export function validateResponsesRequest(body: unknown): ResponsesRequest {
  if (typeof body === 'object' && body !== null && Array.isArray((body as { input?: unknown }).input)) {
    for (const item of (body as { input: unknown[] }).input) {
      if (typeof item !== 'object' || item === null) continue;
      const untyped = item as Record<string, unknown>;
      if (untyped.type !== undefined && untyped.type !== null) continue;
      if ('role' in untyped) untyped.type = 'message';
      else if ('id' in untyped) untyped.type = 'item_reference';
    }
  }
  const request = validate(body);
  if (request.background === true && request.store === false) {
    throw new BadRequestError('Background responses are stored: background: true needs store: true (the default).', {
      param: 'store',
    });
  }
  const { input } = request;
  return typeof input === 'string'
    ? { ...request, input: [{ type: 'message', role: 'user', content: input }] }
    : (request as ResponsesRequest);
}
