import { GoogleGenAI } from '@google/genai';
import type { GeminiSettings } from '../../config.ts';
import type { Fetch } from '../../lib/outbound-fetch.ts';

/**
 * The @google/genai client for the Gemini Developer API, `v1beta`, at GEMINI_BASE_URL, calling
 * through `fetch` (ours: a keep-alive pool that goes through HTTPS_PROXY when one is set). Vertex
 * mode is pinned off so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot redirect the calls.
 */
export function createGeminiClient(settings: GeminiSettings, fetch: Fetch): GoogleGenAI {
  return new GoogleGenAI({
    vertexai: false,
    apiKey: settings.apiKey,
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: settings.baseUrl.href, fetch },
  });
}

/** An abort signal for one SDK call (models, embeddings): the client leaving, or no answer within `timeoutMs`. */
export function upstreamWatchdog(clientSignal: AbortSignal, timeoutMs: number) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  // A listener rather than AbortSignal.any, whose weak references and finalization registry cost
  // about a tenth of a Gemini call's CPU (README, Performance).
  const onClientAbort = () => controller.abort(clientSignal.reason);
  if (clientSignal.aborted) onClientAbort();
  else clientSignal.addEventListener('abort', onClientAbort, { once: true });
  const stop = () => {
    clearTimeout(timer);
    clientSignal.removeEventListener('abort', onClientAbort);
  };
  return {
    signal: controller.signal,
    timedOut: () => controller.signal.aborted && !clientSignal.aborted,
    stop,
  };
}

export type UpstreamWatchdog = ReturnType<typeof upstreamWatchdog>;
