import { BadRequestError } from '../../openai/errors.ts';
import type { OpenAIChatRequest } from '../../openai/types.ts';
import { normalizeGeminiSchema } from './function-schema.ts';
import { geminiThinkingConfig } from './thinking.ts';
import { translateGeminiMessages } from './translate-messages.ts';
import type {
  GeminiFunctionDeclaration,
  GeminiGenerateRequest,
  GeminiGenerationConfig,
  GeminiInlineData,
} from './wire-types.ts';

/** Gemini 3 models check thought signatures on replayed function calls. */
export function checksThoughtSignatures(model: string): boolean {
  return /^gemini-3/i.test(model);
}

/** OpenAI Chat Completions request → the body of Gemini's generateContent. Throws 400 for what Gemini cannot do. */
export function translateGeminiRequest(
  request: OpenAIChatRequest,
  media: ReadonlyMap<string, GeminiInlineData>,
): GeminiGenerateRequest {
  rejectUnsupported(request);
  const { systemInstruction, contents } = translateGeminiMessages(request.messages, {
    media,
    checksThoughtSignatures: checksThoughtSignatures(request.model),
  });
  const config: GeminiGenerationConfig = {};
  if (request.temperature != null) config.temperature = request.temperature;
  if (request.top_p != null) config.topP = request.top_p;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  if (request.n != null && request.n !== 1) config.candidateCount = request.n;
  if (request.seed != null) config.seed = request.seed;
  // Zero is the default and a no-op; many Gemini models refuse the field itself, even as 0.
  if (request.presence_penalty) config.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty) config.frequencyPenalty = request.frequency_penalty;
  const stop = request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (stop.some((sequence) => sequence !== '')) config.stopSequences = stop.filter((sequence) => sequence !== '');
  if (request.reasoning_effort != null) {
    const thinking = geminiThinkingConfig(request.model, request.reasoning_effort);
    if (thinking !== undefined) config.thinkingConfig = thinking;
  }
  const format = request.response_format;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    const schema = normalizeGeminiSchema(format.json_schema.schema);
    if (schema !== undefined) config.responseJsonSchema = schema;
  }
  return {
    contents,
    ...(systemInstruction === undefined ? {} : { systemInstruction }),
    ...translateTools(request),
    generationConfig: config,
  };
}

function rejectUnsupported(request: OpenAIChatRequest): void {
  const reject = (param: string, message: string): never => {
    throw new BadRequestError(message, { param, code: 'unsupported_parameter' });
  };
  if (request.logprobs === true)
    reject('logprobs', 'Log probabilities are not supported for Gemini models by this gateway.');
  if (request.top_logprobs != null && request.top_logprobs > 0) {
    reject('top_logprobs', 'Log probabilities are not supported for Gemini models by this gateway.');
  }
  if (request.logit_bias != null && Object.keys(request.logit_bias).length > 0) {
    reject('logit_bias', 'Gemini does not support logit_bias.');
  }
  if (request.audio != null || request.modalities?.includes('audio')) {
    reject(request.audio != null ? 'audio' : 'modalities', 'Audio output is not supported by this gateway.');
  }
  if (request.prediction != null) reject('prediction', 'Gemini does not support predicted outputs.');
  if (request.web_search_options !== undefined) {
    reject('web_search_options', 'Web search is not available through this gateway.');
  }
  if (request.repetition_penalty != null || request.profanity_check != null || request.update_interval != null) {
    const param =
      request.repetition_penalty != null
        ? 'repetition_penalty'
        : request.profanity_check != null
          ? 'profanity_check'
          : 'update_interval';
    reject(param, `${param} is a GigaChat parameter; Gemini models do not take it.`);
  }
}

function translateTools(request: OpenAIChatRequest): Pick<GeminiGenerateRequest, 'tools' | 'toolConfig'> {
  const declarations: GeminiFunctionDeclaration[] = [];
  for (const [index, tool] of (request.tools ?? []).entries()) {
    if (tool.type !== 'function') {
      throw new BadRequestError('Only function tools are supported for Gemini models.', {
        param: `tools[${index}].type`,
        code: 'unsupported_parameter',
      });
    }
    declarations.push(declaration(tool.function.name, tool.function.description, tool.function.parameters));
  }
  for (const legacy of request.functions ?? []) {
    declarations.push(declaration(legacy.name, legacy.description, legacy.parameters));
  }
  if (declarations.length === 0) return {};
  const choice = request.tool_choice ?? legacyChoice(request.function_call);
  const names = new Set(declarations.map((entry) => entry.name));
  let functionCallingConfig: NonNullable<GeminiGenerateRequest['toolConfig']>['functionCallingConfig'];
  if (choice === undefined || choice === 'auto') functionCallingConfig = undefined;
  else if (choice === 'none') functionCallingConfig = { mode: 'NONE' };
  else if (choice === 'required') functionCallingConfig = { mode: 'ANY' };
  else if (choice.type === 'function') {
    const name = choice.function.name;
    if (!names.has(name)) {
      throw new BadRequestError(`tool_choice names the function '${name}', which is not among the tools.`, {
        param: 'tool_choice.function.name',
      });
    }
    functionCallingConfig = { mode: 'ANY', allowedFunctionNames: [name] };
  } else {
    throw new BadRequestError(`tool_choice of type '${choice.type}' is not supported for Gemini models.`, {
      param: 'tool_choice.type',
      code: 'unsupported_parameter',
    });
  }
  return {
    tools: [{ functionDeclarations: declarations }],
    ...(functionCallingConfig === undefined ? {} : { toolConfig: { functionCallingConfig } }),
  };
}

function legacyChoice(choice: OpenAIChatRequest['function_call']): OpenAIChatRequest['tool_choice'] {
  if (choice === undefined) return undefined;
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}

function declaration(
  name: string,
  description: string | undefined,
  parameters: Record<string, unknown> | undefined,
): GeminiFunctionDeclaration {
  const schema = normalizeGeminiSchema(parameters);
  return {
    name,
    ...(description === undefined ? {} : { description }),
    ...(schema === undefined ? {} : { parametersJsonSchema: schema }),
  };
}
