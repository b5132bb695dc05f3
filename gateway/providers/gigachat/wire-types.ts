/*
 * GigaChat REST API v1 wire shapes, as the official SDK's recorded cassettes show them
 * (see test/fixtures/gigachat/SOURCES.md).
 */

export type GigaChatRole = 'system' | 'user' | 'assistant' | 'function';

export interface GigaChatFunctionCall {
  name: string;
  /** A JSON object, not a string as in OpenAI. */
  arguments: Record<string, unknown>;
}

export interface GigaChatMessage {
  role: GigaChatRole;
  content: string;
  /** Required when role is `function`: the function whose result this is. */
  name?: string;
  function_call?: GigaChatFunctionCall;
  /** Ids of files in GigaChat's storage (POST /files) the message refers to. */
  attachments?: string[];
}

export interface GigaChatFunction {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

export interface GigaChatResponseFormat {
  type: 'json_schema';
  schema: Record<string, unknown>;
  strict?: boolean;
}

export interface GigaChatChatRequest {
  model: string;
  messages: GigaChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stream?: boolean;
  repetition_penalty?: number;
  profanity_check?: boolean;
  update_interval?: number;
  functions?: GigaChatFunction[];
  function_call?: 'auto' | 'none' | { name: string };
  response_format?: GigaChatResponseFormat;
  reasoning_effort?: 'low' | 'medium' | 'high';
}

export type GigaChatFinishReason = 'stop' | 'length' | 'function_call' | 'blacklist' | 'error';

export interface GigaChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  precached_prompt_tokens?: number;
}

export interface GigaChatResponseMessage {
  role: 'assistant' | 'function_in_progress' | 'search_result';
  content?: string;
  function_call?: GigaChatFunctionCall;
  functions_state_id?: string;
  reasoning_content?: string;
}

export interface GigaChatCompletion {
  choices: Array<{ message: GigaChatResponseMessage; index: number; finish_reason?: GigaChatFinishReason }>;
  /** Unix seconds. */
  created: number;
  /** Versioned, e.g. `GigaChat:2.0.28.2`. */
  model: string;
  usage?: GigaChatUsage;
  object: string;
}

export interface GigaChatChunk {
  choices: Array<{
    delta: Partial<GigaChatResponseMessage>;
    index: number;
    finish_reason?: GigaChatFinishReason;
  }>;
  created: number;
  model: string;
  usage?: GigaChatUsage;
  object: string;
}

export interface GigaChatModel {
  id: string;
  object: 'model';
  owned_by: string;
  type: 'chat' | 'embedder' | 'aicheck' | 'filter' | string;
}

export interface GigaChatModelList {
  object: 'list';
  data: GigaChatModel[];
}

/** `GET /balance` answer: tokens left per prepaid package (pay-as-you-go accounts get 403 instead). */
export interface GigaChatBalance {
  balance: Array<{ usage: string; value: number }>;
}

/** `POST /files` answer (SDK `tests/data/post_files.json`); `GET /files/{id}` adds `access_policy`. */
export interface GigaChatFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  access_policy?: string;
}

/** `POST /files/{id}/delete` answer. */
export interface GigaChatDeletedFile {
  id: string;
  deleted: boolean;
}

/** OAuth answer; `expires_at` is in ms (older docs show `tok`/`exp` and seconds). */
export interface GigaChatTokenResponse {
  access_token?: string;
  expires_at?: number;
  tok?: string;
  exp?: number;
}

/** Error bodies: `{status, message}` from the API, `{code, message}` from OAuth. */
export interface GigaChatErrorBody {
  status?: number;
  code?: number;
  message?: string;
}

/** `POST /embeddings` request: GigaChat takes a list of texts only. */
export interface GigaChatEmbeddingsRequest {
  model: string;
  input: string[];
}

/** `POST /embeddings` answer; usage is per item, not in total. */
export interface GigaChatEmbeddings {
  object: 'list';
  model: string;
  data: Array<{ object: 'embedding'; index: number; embedding: number[]; usage?: { prompt_tokens?: number } }>;
}
