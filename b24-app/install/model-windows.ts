/**
 * Context windows (input + output tokens) of the models we register as CoPilot engines. Bitrix24
 * trims an engine's `context` to `model_context_limit` with a GPT tokenizer, so
 * the limit is the real window minus room for the answer.
 *
 * Sources: GigaChat 2 family 131,072 (developers.sber.ru model pages; polza.ai catalogue for
 * GigaChat-2-Max); the first GigaChat generation 32,768 (same pages, "32K"); Gemini 2.x/3
 * 1,048,576 input (ai.google.dev/gemini-api/docs/models); Gemma 3 131,072.
 */
const WINDOWS: ReadonlyArray<{ pattern: RegExp; tokens: number }> = [
  { pattern: /^GigaChat-[23]/i, tokens: 131_072 },
  { pattern: /^GigaChat(-(Pro|Max|Plus))?(-preview)?$/i, tokens: 32_768 },
  { pattern: /^gemini-(2|3)/i, tokens: 1_048_576 },
  { pattern: /^gemini-1\.5/i, tokens: 1_048_576 },
  { pattern: /^gemma-3/i, tokens: 131_072 },
];

/** For a model we know nothing about: a window every current chat model has. */
const UNKNOWN_WINDOW = 16_384;

/** The tokens kept free for the answer: a quarter of the window, at most 8,192. */
function outputReserve(window: number): number {
  return Math.min(8_192, Math.floor(window / 4));
}

/** The model's context window in tokens (a conservative default for unknown models). */
export function contextWindow(model: string): number {
  const bare = model.includes('/') ? model.slice(model.indexOf('/') + 1) : model;
  return WINDOWS.find((entry) => entry.pattern.test(bare))?.tokens ?? UNKNOWN_WINDOW;
}

/** `settings.model_context_limit` for the model's engine. */
export function modelContextLimit(model: string): number {
  const window = contextWindow(model);
  return window - outputReserve(window);
}
