import { AsyncLocalStorage } from 'node:async_hooks';

/** Writes one request's prompt to the log; a gateway has one only when LOG_PROMPTS=1. */
export type PromptSink = (prompt: Record<string, unknown>) => void;

/** What code anywhere inside one request's work may need without being handed it. */
export interface RequestContext {
  readonly requestId: string;
  readonly logPrompt: PromptSink | undefined;
}

// Every log line written inside a request carries its id (logger.ts) without each caller passing it:
// provider and Bitrix24 code deep in a request has no request object at hand.
const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `work` (and everything it starts) as part of one request. */
export function runInRequest<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/** The request the current code runs for, or undefined outside any request. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}
