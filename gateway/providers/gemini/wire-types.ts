/*
 * Gemini's wire shapes are @google/genai's own types: the REST JSON has the same field names, so
 * generate.ts sends and reads them as they are. This file names the ones the translators use.
 */
import type { Content, GenerateContentConfig, Tool, ToolConfig } from '@google/genai';

export type {
  Candidate as GeminiCandidate,
  Content as GeminiContent,
  FunctionDeclaration as GeminiFunctionDeclaration,
  GenerateContentResponse as GeminiResponse,
  GenerateContentResponseUsageMetadata as GeminiUsage,
  Part as GeminiPart,
  ThinkingConfig as GeminiThinkingConfig,
  Tool as GeminiTool,
  ToolConfig as GeminiToolConfig,
} from '@google/genai';

/** An inline media part's payload: base64 data and its type. */
export interface GeminiInlineData {
  mimeType: string;
  data: string;
}

/** Gemini's error body (google.rpc.Status). */
export interface GeminiErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: Array<{ '@type'?: string; reason?: string; retryDelay?: string; [key: string]: unknown }>;
  };
}

/** The `generationConfig` fields the translator sets (the SDK's config, less what is not generation). */
export type GeminiGenerationConfig = Pick<
  GenerateContentConfig,
  | 'temperature'
  | 'topP'
  | 'maxOutputTokens'
  | 'candidateCount'
  | 'seed'
  | 'presencePenalty'
  | 'frequencyPenalty'
  | 'stopSequences'
  | 'thinkingConfig'
  | 'responseMimeType'
  | 'responseJsonSchema'
>;

/** What the translator makes of a request, in the SDK's `config` form: generation fields and three that are not. */
export type GeminiGenerateConfig = GeminiGenerationConfig & {
  systemInstruction?: Content;
  tools?: Tool[];
  toolConfig?: ToolConfig;
};

/** The body of `models/{model}:generateContent` and `:streamGenerateContent` (Developer API, v1beta). */
export interface GeminiGenerateRequest {
  contents: Content[];
  systemInstruction?: Content;
  tools?: Tool[];
  toolConfig?: ToolConfig;
  generationConfig: GeminiGenerationConfig;
}
