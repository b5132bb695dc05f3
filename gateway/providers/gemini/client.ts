import { GoogleGenAI } from '@google/genai';
import type { GeminiSettings } from '../../config.ts';
import { createOutboundFetch, type Fetch } from '../../lib/outbound-fetch.ts';

/**
 * The @google/genai client for the Gemini Developer API, `v1beta`, at GEMINI_BASE_URL. Its
 * `fetch` is ours: a keep-alive pool that goes through HTTPS_PROXY when one is set. Vertex mode
 * is pinned off so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot redirect the calls.
 */
export function createGeminiClient(settings: GeminiSettings, fetch?: Fetch): GoogleGenAI {
  return new GoogleGenAI({
    vertexai: false,
    apiKey: settings.apiKey,
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: settings.baseUrl.href, fetch: fetch ?? createOutboundFetch(settings.proxy) },
  });
}

/** An abort signal for one upstream call: the client leaving, or no progress for `timeoutMs`. */
export function upstreamWatchdog(clientSignal: AbortSignal, timeoutMs: number) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  return {
    signal: AbortSignal.any([clientSignal, controller.signal]),
    timedOut: () => controller.signal.aborted && !clientSignal.aborted,
    /** Progress was made: the idle limit starts again. */
    progress: () => timer.refresh(),
    stop: () => clearTimeout(timer),
    /** Ends the upstream request (a stream the gateway stopped reading). */
    abort: () => {
      clearTimeout(timer);
      if (!controller.signal.aborted) controller.abort();
    },
  };
}

export type UpstreamWatchdog = ReturnType<typeof upstreamWatchdog>;
