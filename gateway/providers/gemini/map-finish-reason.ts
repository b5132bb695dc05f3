import { UpstreamError } from '../../openai/errors.ts';
import type { OpenAIFinishReason } from '../../openai/types.ts';

const CONTENT_FILTER = new Set([
  'SAFETY',
  'RECITATION',
  'LANGUAGE',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini finishReason → OpenAI's. Gemini ends a turn with function calls as STOP; OpenAI clients
 * run their tool loop only on `tool_calls`, so calls win. MALFORMED_FUNCTION_CALL means Gemini
 * wrote a call it could not parse: a quiet `stop` would end an agent loop with no answer, so it
 * is an upstream error, as GigaChat's `error` is.
 */
export function mapGeminiFinishReason(reason: string | undefined, hasToolCalls: boolean): OpenAIFinishReason {
  if (hasToolCalls) return 'tool_calls';
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason !== undefined && CONTENT_FILTER.has(reason)) return 'content_filter';
  if (reason === 'MALFORMED_FUNCTION_CALL') {
    throw new UpstreamError(
      'Gemini produced a function call it could not complete (finishReason MALFORMED_FUNCTION_CALL).',
      {
        code: 'upstream_invalid_function_call',
      },
    );
  }
  return 'stop';
}
