import { UpstreamError } from '../../openai/errors.ts';
import type { OpenAIFinishReason } from '../../openai/types.ts';
import type { GigaChatFinishReason } from './wire-types.ts';

/**
 * GigaChat finish_reason → OpenAI's. `error` means GigaChat produced invalid function arguments;
 * passing it on as a normal stop would end an agent loop with a wrong answer, so it is an error.
 */
export function mapGigaChatFinishReason(reason: GigaChatFinishReason | undefined): OpenAIFinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'function_call':
      return 'tool_calls';
    case 'blacklist':
      return 'content_filter';
    case 'error':
      throw new UpstreamError('GigaChat could not produce valid function arguments (finish_reason "error").', {
        code: 'upstream_invalid_function_call',
      });
    default:
      return 'stop';
  }
}
