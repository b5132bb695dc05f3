import type { OpenAIChatRequest } from '../../openai/types.ts';
import type { GeminiThinkingConfig } from './wire-types.ts';

type Effort = NonNullable<OpenAIChatRequest['reasoning_effort']>;

/*
 * `reasoning_effort` → Gemini's thinking settings, by model family
 * (https://ai.google.dev/gemini-api/docs/thinking). Gemini 3 takes a level and cannot switch thinking off: `none` and `minimal` ask for
 * LOW, the one level every Gemini 3 model accepts (some refuse MINIMAL), and Pro models, which
 * refuse MEDIUM, get HIGH for it. Gemini 2.5 takes a token budget; Pro cannot go below 128.
 * Other models (Gemini 2.0, Gemma) have no thinking switch, so the effort does not apply to them.
 */

const BUDGETS: Record<Effort, number> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24_576,
  xhigh: 32_768,
  max: 32_768,
};
const FLASH_MAX_BUDGET = 24_576;
const PRO_MIN_BUDGET = 128;

export function geminiThinkingConfig(model: string, effort: Effort): GeminiThinkingConfig | undefined {
  const name = model.toLowerCase();
  const pro = /-pro\b/.test(name);
  if (/^gemini-3/.test(name)) {
    if (effort === 'none' || effort === 'minimal' || effort === 'low') return { thinkingLevel: 'LOW' };
    if (effort === 'medium' && !pro) return { thinkingLevel: 'MEDIUM' };
    return { thinkingLevel: 'HIGH' };
  }
  if (/^gemini-2\.5/.test(name)) {
    const budget = BUDGETS[effort];
    if (pro) return { thinkingBudget: Math.max(budget, PRO_MIN_BUDGET) };
    return { thinkingBudget: Math.min(budget, FLASH_MAX_BUDGET) };
  }
  return undefined;
}
