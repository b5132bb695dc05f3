import { BadRequestError } from '../openai/errors.ts';
import type { OpenAIMessage } from '../openai/types.ts';
import { compileValidator } from '../openai/validate.ts';
import { answeredModel, type Dispatcher } from './dispatch.ts';
import type { FailureShape } from './middleware/error-handler.ts';
import { logPrompt } from './prompt-log.ts';
import type { GatewayContext, GatewayMiddleware } from './state.ts';

/*
 * `POST /analyze/text` — the protocol of the older "1C + GigaChat through a FastAPI bridge"
 * tutorial (nmitin/ai-1c-gigachat), so 1C forms built from it keep working when pointed at this
 * gateway. Its two revisions differ:
 *   - the first (daf6112) sends `return_format` and reads `{success, result, error}`; its server
 *     answered every failure with HTTP 200 and `success: false`, and its form shows `error` only then;
 *   - the later one (eb9b380, 96486dc) sends `temperature` and `max_tokens`, reads `{result, model}`
 *     after any 200, and its server failed with real statuses and `{"detail": …}`.
 * A request carrying `return_format` is answered as the first; any other as the later.
 */

/** The tutorial's request body; unknown fields are ignored, as its server (pydantic) did. */
export interface AnalyzeTextRequest {
  text: string;
  system_prompt?: string | null;
  return_format?: 'text' | 'html' | null;
  model?: string | null;
  temperature?: number | null;
  max_tokens?: number | null;
}

/** The answer both revisions read: `{success, result, error}` for the first, `{result, model}` for the later. */
export interface AnalyzeTextAnswer {
  success: boolean;
  result: string;
  error: string | null;
  model?: string;
  code?: string | null;
  status?: number;
}

/** The later revision's failure: FastAPI's `{"detail": …}`, under the real status (plus a stable `code`). */
export interface AnalyzeTextDetail {
  detail: string;
  code: string | null;
}

/** What the tutorial's server used when a form sent no system prompt: the first revision's, the later one's. */
export const DEFAULT_SYSTEM_PROMPT = 'Ты - полезный ассистент. Отвечай кратко и по делу.';
export const LATER_DEFAULT_SYSTEM_PROMPT = 'Ты — полезный ассистент. Отвечай кратко и по существу.';
/** The tutorial's server always asked GigaChat; `model` picks another one (e.g. `gemini-2.5-flash`). */
export const DEFAULT_MODEL = 'GigaChat';

const validateAnalyzeText = compileValidator<AnalyzeTextRequest>({
  type: 'object',
  required: ['text'],
  properties: {
    text: { type: 'string' },
    system_prompt: { type: ['string', 'null'] },
    return_format: { enum: ['text', 'html', null] },
    model: { type: ['string', 'null'] },
    // The later revision's server took 0–2 and 1–8192.
    temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
    max_tokens: { type: ['integer', 'null'], minimum: 1, maximum: 8192 },
  },
});

/** Whether a body is the first revision's: its form always sends `return_format`. */
function isFirstRevision(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Object.hasOwn(body, 'return_format');
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** The page the tutorial's form puts into its HTML field: the answer, escaped, line breaks kept. */
export function analyzeTextHtml(answer: string): string {
  return (
    '<html>\n<head><meta charset="utf-8"></head>\n' +
    '<body style="font-family: Arial; padding: 20px; line-height: 1.6;">\n' +
    `<div style="white-space: pre-wrap;">${escapeHtml(answer)}</div>\n` +
    '</body>\n</html>\n'
  );
}

/**
 * A failure as the revision's server answered it. The first: HTTP 200 with `{success: false, error}`
 * (its form shows `error` only on a 200, any other status just as a number), the status an OpenAI
 * client would get in the body as `status`. The later: that status, with `{"detail": …}` (its form
 * reads `result` after any 200, so a 200 would show a failure as an empty answer).
 */
export const analyzeTextFailure: FailureShape = (answer, exchange) => {
  const { req } = exchange;
  const sent = 'request' in exchange ? (exchange as GatewayContext).request.body : undefined;
  if (!isFirstRevision(sent)) {
    const detail: AnalyzeTextDetail = { detail: answer.message, code: answer.code };
    return { status: answer.status, body: detail };
  }
  const body: AnalyzeTextAnswer = {
    success: false,
    result: '',
    error: answer.message,
    code: answer.code,
    status: answer.status,
  };
  // Node has refused the body and answered 400 itself: the log says so, not 200.
  return { status: req.socket?.destroyed === true ? answer.status : 200, body };
};

/** `POST /analyze/text`: one question (and a system prompt) to a model, the answer as text or HTML. */
export function analyzeText(dispatcher: Dispatcher): GatewayMiddleware {
  return async function analyzeTutorialText(ctx) {
    const request = validateAnalyzeText(ctx.request.body);
    logPrompt({ model: request.model, system_prompt: request.system_prompt, text: request.text });
    if (request.text.trim() === '') {
      throw new BadRequestError("'text' is empty: send the text to analyze.", { param: 'text' });
    }
    // A form with an empty model field means "the tutorial's model".
    const requested = request.model == null || request.model.trim() === '' ? DEFAULT_MODEL : request.model;
    const route = await dispatcher.open(ctx, requested);

    // An empty system prompt is the form's empty field: send none rather than an empty message.
    const systemPrompt =
      request.system_prompt ?? (isFirstRevision(request) ? DEFAULT_SYSTEM_PROMPT : LATER_DEFAULT_SYSTEM_PROMPT);
    const messages: OpenAIMessage[] = [];
    if (systemPrompt.trim() !== '') messages.push({ role: 'system', content: systemPrompt });
    messages.push({ role: 'user', content: request.text });

    const options = {
      ...(request.temperature == null ? {} : { temperature: request.temperature }),
      ...(request.max_tokens == null ? {} : { max_tokens: request.max_tokens }),
    };
    const { value: completion, target } = await dispatcher.call(ctx, route, (target, call) =>
      target.provider.complete({ model: target.model, messages, ...options }, call),
    );
    const answer = completion.choices[0]?.message.content ?? '';
    const body: AnalyzeTextAnswer = {
      success: true,
      result: request.return_format === 'html' ? analyzeTextHtml(answer) : answer,
      error: null,
      model: answeredModel(requested, route, target),
    };
    ctx.body = body;
    dispatcher.record(ctx, target, completion.usage);
  };
}
