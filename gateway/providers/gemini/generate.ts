import type { HttpResponse, RequestTarget } from '../../lib/http-request.ts';
import type { OutboundFetch } from '../../lib/outbound-fetch.ts';
import { plainText } from '../../lib/plain-text.ts';
import { readSseData } from '../../lib/read-sse.ts';
import { UpstreamError } from '../../openai/errors.ts';
import { mapGeminiApiError } from './map-error.ts';
import type { GeminiRequestPlan } from './translate-request.ts';
import type { GeminiErrorBody, GeminiGenerateRequest, GeminiResponse } from './wire-types.ts';

/*
 * generateContent and streamGenerateContent, called over the pool directly. @google/genai keeps
 * the other calls (models, embeddings) and gives the types: the REST JSON is its
 * GenerateContentResponse field for field. On the chat path the SDK cost more CPU than the rest of
 * the gateway, most of it parsing each stream event two or three times and wrapping each one in a
 * Response (README, Performance). Failures are thrown as the SDK's calls fail (fetch's on the way
 * there, the mapped Gemini error for a refusal), so mapGeminiFailure serves both.
 */

export interface GeminiApi {
  pool: OutboundFetch;
  /** GEMINI_BASE_URL's origin and the path of its `v1beta/` (geminiApiRoot). */
  root: RequestTarget;
  apiKey: string;
  /** Idle limit of a call: waiting for the answer, and between two pieces of a stream. */
  timeoutMs: number;
}

/** The SDK's Developer-API conversion of `config`: three fields go to the top of the body, the rest to generationConfig. */
export function generateContentBody(plan: GeminiRequestPlan): GeminiGenerateRequest {
  const { systemInstruction, tools, toolConfig, ...generationConfig } = plan.config;
  return {
    contents: plan.contents,
    ...(systemInstruction === undefined ? {} : { systemInstruction }),
    ...(tools === undefined ? {} : { tools }),
    ...(toolConfig === undefined ? {} : { toolConfig }),
    generationConfig,
  };
}

/** `models/{model}:generateContent`: the whole answer. */
export async function generateContent(
  api: GeminiApi,
  plan: GeminiRequestPlan,
  signal: AbortSignal,
): Promise<GeminiResponse> {
  const answer = await post(api, plan, 'generateContent', signal);
  return JSON.parse(await answer.body.text()) as GeminiResponse;
}

/**
 * `models/{model}:streamGenerateContent?alt=sse`: each event as it arrives. A caller that stops
 * reading early ends the upstream request, as does aborting `signal`.
 */
export async function* streamGenerateContent(
  api: GeminiApi,
  plan: GeminiRequestPlan,
  signal: AbortSignal,
): AsyncGenerator<GeminiResponse> {
  const answer = await post(api, plan, 'streamGenerateContent?alt=sse', signal);
  if (!String(answer.headers['content-type']).startsWith('text/event-stream')) {
    const detail = plainText(await answer.body.text()).slice(0, 200) || 'an empty body';
    throw new UpstreamError(`Gemini answered a streaming request without an event stream: ${detail}`);
  }
  for await (const batch of readSseData(answer.body)) {
    for (const data of batch) {
      const event = JSON.parse(data) as GeminiResponse & GeminiErrorBody;
      // An error after the 200 comes as an event of its own (google.rpc.Status).
      if (typeof event.error === 'object' && event.error !== null) {
        throw mapGeminiApiError(event.error.code ?? 500, event);
      }
      yield event;
    }
  }
}

/** Sends the request; a 2xx answer comes back unread, anything else is thrown as the client's error. */
async function post(
  api: GeminiApi,
  plan: GeminiRequestPlan,
  action: string,
  signal: AbortSignal,
): Promise<HttpResponse> {
  const answer = await api.pool.request(actionTarget(api.root, plan.model, action), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': api.apiKey },
    body: JSON.stringify(generateContentBody(plan)),
    signal,
    timeoutMs: api.timeoutMs,
  });
  if (answer.statusCode >= 200 && answer.statusCode < 300) return answer;
  const text = await answer.body.text();
  const retryAfter = answer.headers['retry-after'];
  throw mapGeminiApiError(answer.statusCode, errorBody(text), typeof retryAfter === 'string' ? retryAfter : undefined);
}

/** The root of the API's `v1beta` paths under GEMINI_BASE_URL, made once per provider. */
export function geminiApiRoot(baseUrl: URL): RequestTarget {
  return { origin: baseUrl.origin, path: `${baseUrl.pathname.replace(/\/+$/, '')}/v1beta/` };
}

const TUNED = 'tunedModels/';

/**
 * `v1beta/models/{id}:{action}`, or `v1beta/tunedModels/{id}:{action}` for a tuned model. The
 * registry has checked the id against the model-name grammar; it goes in as one encoded segment.
 */
function actionTarget(root: RequestTarget, model: string, action: string): RequestTarget {
  const name = model.startsWith(TUNED)
    ? `${TUNED}${encodeURIComponent(model.slice(TUNED.length))}`
    : `models/${encodeURIComponent(model)}`;
  return { origin: root.origin, path: `${root.path}${name}:${action}` };
}

/** Gemini's error body, or the raw text as its message when the answer is not JSON (a proxy's page). */
function errorBody(text: string): GeminiErrorBody {
  try {
    const parsed = JSON.parse(text) as GeminiErrorBody;
    if (typeof parsed.error === 'object' && parsed.error !== null) return parsed;
  } catch {
    // Not JSON: fall through.
  }
  const plain = plainText(text);
  return { error: { message: plain === '' ? undefined : plain } };
}
