import { BadRequestError } from '../openai/errors.ts';
import type { OpenAIMessage } from '../openai/types.ts';
import { compileValidator } from '../openai/validate.ts';
import type { Dispatcher } from './dispatch.ts';
import type { FailureShape } from './middleware/error-handler.ts';
import { logPrompt } from './prompt-log.ts';
import type { GatewayMiddleware } from './state.ts';

/*
 * `POST /analyze/text` — the protocol of the older "1C + GigaChat through a FastAPI bridge"
 * tutorial, so 1C forms built from it keep working when pointed at this gateway.
 */

/** The tutorial's request body; unknown fields are ignored, as its server (pydantic) did. */
export interface AnalyzeTextRequest {
  text: string;
  system_prompt?: string | null;
  return_format?: 'text' | 'html' | null;
  model?: string | null;
}

/** The tutorial's answer: `{success, result, error}` (plus a stable `code` and the OpenAI `status` on failures). */
export interface AnalyzeTextAnswer {
  success: boolean;
  result: string;
  error: string | null;
  code?: string | null;
  status?: number;
}

/** What the tutorial's server used when a form sent no system prompt. */
export const DEFAULT_SYSTEM_PROMPT = 'Ты - полезный ассистент. Отвечай кратко и по делу.';
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
  },
});

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
 * A failure as the tutorial's server answered it: HTTP 200 with `{success: false, error}`. Its form
 * shows `error` only on a 200 (on any other status it shows just the number), so the status an
 * OpenAI client would get goes into the body as `status`.
 */
export const analyzeTextFailure: FailureShape = (answer, { req }) => {
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
    const systemPrompt = request.system_prompt ?? DEFAULT_SYSTEM_PROMPT;
    const messages: OpenAIMessage[] = [];
    if (systemPrompt.trim() !== '') messages.push({ role: 'system', content: systemPrompt });
    messages.push({ role: 'user', content: request.text });

    const { value: completion, target } = await dispatcher.call(ctx, route, (target, call) =>
      target.provider.complete({ model: target.model, messages }, call),
    );
    const answer = completion.choices[0]?.message.content ?? '';
    const body: AnalyzeTextAnswer = {
      success: true,
      result: request.return_format === 'html' ? analyzeTextHtml(answer) : answer,
      error: null,
    };
    ctx.body = body;
    dispatcher.record(ctx, target, completion.usage);
  };
}
