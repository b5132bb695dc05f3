import type { Logger } from '../lib/logger.ts';
import { currentRequest, type PromptSink } from '../lib/request-context.ts';

/** An inline image or file (`data:image/png;base64,…`): its bytes say nothing a reader of the log needs. */
const INLINE_DATA = /^data:[\w.+/-]+(;[\w.+=-]+)*;base64,/;

/** This gateway's prompt sink: one info line per request when LOG_PROMPTS=1, none otherwise. */
export function createPromptSink(logger: Logger, enabled: boolean): PromptSink | undefined {
  if (!enabled) return undefined;
  return (prompt) => logger.info({ prompt: withoutInlineData(prompt) }, 'prompt');
}

/**
 * Logs a validated request's prompt (chat messages, embeddings input, the 1C route's text) when
 * LOG_PROMPTS=1; the line gets the request id like any other. Off by default: prompts are the
 * users' data, and no other line holds them.
 */
export function logPrompt(prompt: Record<string, unknown>): void {
  currentRequest()?.logPrompt?.(prompt);
}

function withoutInlineData(prompt: Record<string, unknown>): unknown {
  return JSON.parse(
    JSON.stringify(prompt, (_key, value: unknown) => {
      if (typeof value !== 'string') return value;
      const header = INLINE_DATA.exec(value)?.[0];
      return header === undefined ? value : `${header}[${value.length - header.length} characters]`;
    }),
  );
}
