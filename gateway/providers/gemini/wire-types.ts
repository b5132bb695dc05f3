/*
 * Gemini's wire shapes are @google/genai's own types (the SDK sends and returns the REST JSON with
 * the same field names); this file names the ones the translators use.
 */
export type {
  Candidate as GeminiCandidate,
  Content as GeminiContent,
  FunctionDeclaration as GeminiFunctionDeclaration,
  GenerateContentConfig as GeminiGenerateConfig,
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
