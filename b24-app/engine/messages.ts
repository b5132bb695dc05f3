import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { EngineRequest } from './engine-request.ts';

/** Bitrix24's UI languages (LANGUAGE_ID) by name, for the answer-language instruction. */
const LANGUAGES: Readonly<Record<string, string>> = {
  ru: 'Russian',
  en: 'English',
  de: 'German',
  ua: 'Ukrainian',
  uk: 'Ukrainian',
  by: 'Belarusian',
  kz: 'Kazakh',
  la: 'Spanish',
  es: 'Spanish',
  br: 'Portuguese',
  pt: 'Portuguese',
  fr: 'French',
  it: 'Italian',
  pl: 'Polish',
  tr: 'Turkish',
  sc: 'Chinese',
  tc: 'Chinese',
  ja: 'Japanese',
  vn: 'Vietnamese',
  id: 'Indonesian',
  ms: 'Malay',
  th: 'Thai',
  ar: 'Arabic',
};

/** The system line about language and format; Bitrix24 converts Markdown to BBCode itself for its chat. */
function answerRules(language: string | undefined): string {
  const name = language === undefined ? undefined : (LANGUAGES[language.slice(0, 2)] ?? language);
  const languageRule =
    name === undefined
      ? 'Answer in the language of the request'
      : `Answer in ${name} (the user's interface language) unless the request asks for another language`;
  return `${languageRule}. Format the answer as Markdown without HTML.`;
}

/**
 * Bitrix24's request → OpenAI messages: `payload_role` and the answer rules as the system message,
 * `context` as the history when `collect_context` is true, `prompt` as the last user message.
 */
export function buildMessages(request: EngineRequest): ChatCompletionMessageParam[] {
  const system = [request.payloadRole?.trim(), answerRules(request.language)].filter(Boolean).join('\n\n');
  const history: ChatCompletionMessageParam[] = request.collectContext
    ? request.context
        .filter((message) => message.content.trim() !== '')
        // GigaChat refuses a system message after the first one (422), so context never adds one.
        .map((message) => ({ role: message.role === 'assistant' ? 'assistant' : 'user', content: message.content }))
    : [];
  return [{ role: 'system', content: system }, ...history, { role: 'user', content: request.prompt }];
}
