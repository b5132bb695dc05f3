/**
 * OpenAI wire types the gateway speaks, taken type-only from the official SDK so our answers are
 * checked against the same declarations its users compile against.
 */
import type {
  ChatCompletion,
  ChatCompletionAssistantMessageParam,
  ChatCompletionChunk,
  ChatCompletionContentPart,
  ChatCompletionCreateParams,
  ChatCompletionFunctionTool,
  ChatCompletionMessage,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { Model } from 'openai/resources/models';

/** A Chat Completions request after schema validation, plus the provider extras we accept. */
export type OpenAIChatRequest = ChatCompletionCreateParams & {
  /** GigaChat extras, passed through to GigaChat (the SDKs send them via `extra_body`). */
  repetition_penalty?: number | null;
  profanity_check?: boolean | null;
  update_interval?: number | null;
};

export type OpenAIMessage = ChatCompletionMessageParam;
export type OpenAIAssistantMessage = ChatCompletionAssistantMessageParam;
export type OpenAIContentPart = ChatCompletionContentPart;
export type OpenAIToolChoice = ChatCompletionToolChoiceOption;
export type OpenAIFunctionTool = ChatCompletionFunctionTool;
export type OpenAIToolCall = ChatCompletionMessageFunctionToolCall;
export type OpenAIUsage = CompletionUsage;

/** Answer message; `reasoning_content` is the common (DeepSeek-style) extension for model reasoning. */
export type OpenAIResponseMessage = ChatCompletionMessage & { reasoning_content?: string };

export type OpenAIChatCompletion = Omit<ChatCompletion, 'choices'> & {
  choices: Array<Omit<ChatCompletion.Choice, 'message'> & { message: OpenAIResponseMessage }>;
};

export type OpenAIChatChunk = ChatCompletionChunk;
export type OpenAIChunkDelta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string };
export type OpenAIFinishReason = ChatCompletion.Choice['finish_reason'];

/** What a model is for, as its provider says (an extra field beside OpenAI's). */
export type OpenAIModelKind = 'chat' | 'embeddings' | 'image' | 'audio' | 'other';

/** A `/v1/models` entry: OpenAI's, plus the model's kind. */
export type OpenAIModel = Model & { kind?: OpenAIModelKind };

/** `GET /v1/models` body. */
export interface OpenAIModelList {
  object: 'list';
  data: OpenAIModel[];
}

/** An Embeddings request after validation: text input only. */
export type OpenAIEmbeddingRequest = Omit<EmbeddingCreateParams, 'input'> & { input: string | string[] };

/** `POST /v1/embeddings` body. `embedding` is a base64 string when `encoding_format` is base64. */
export type OpenAIEmbeddingResponse = Omit<CreateEmbeddingResponse, 'data'> & {
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
};

export type {
  EasyInputMessage as OpenAIEasyInputMessage,
  Response as OpenAIResponse,
  ResponseCreateParamsBase as OpenAIResponsesRequestBase,
  ResponseFunctionToolCall as OpenAIResponseFunctionCall,
  ResponseInputContent as OpenAIResponseInputContent,
  ResponseInputItem as OpenAIResponseInputItem,
  ResponseItem as OpenAIResponseItem,
  ResponseOutputItem as OpenAIResponseOutputItem,
  ResponseOutputMessage as OpenAIResponseOutputMessage,
  ResponseReasoningItem as OpenAIResponseReasoningItem,
  ResponseStreamEvent as OpenAIResponseStreamEvent,
  ResponseUsage as OpenAIResponseUsage,
} from 'openai/resources/responses/responses';
