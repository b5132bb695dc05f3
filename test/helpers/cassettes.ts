import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type nock from 'nock';
import type { OpenAIChatRequest } from '../../gateway/openai/types.ts';

type Definition = nock.Definition;

/** Folder of the nock-back recordings of real GigaChat exchanges (see SOURCES.md beside it). */
export const GIGACHAT_CASSETTES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/gigachat/cassettes');

/** The definitions of one recording. */
export function loadCassette(name: string): Definition[] {
  return JSON.parse(readFileSync(join(GIGACHAT_CASSETTES, `${name}.json`), 'utf8')) as Definition[];
}

/** The recorded exchange with one API path (not the OAuth call) of a recording. */
export function recordedExchange(name: string, path = '/api/v1/chat/completions'): { request: any; response: any } {
  const definition = loadCassette(name).find((entry) => entry.path === path);
  if (definition === undefined) throw new Error(`cassette ${name} has no ${path}`);
  return { request: definition.body, response: definition.response };
}

/** A stream recording's SSE body, as the list of its JSON payloads. */
export function recordedStreamChunks(name: string): any[] {
  const body = recordedExchange(name).response as string;
  return body
    .split('\n\n')
    .map((event) => event.replace(/^data: /, ''))
    .filter((data) => data !== '' && data !== '[DONE]')
    .map((data) => JSON.parse(data));
}

/** The OpenAI request whose translation is each recording's GigaChat request. */
export const CASSETTE_REQUESTS = {
  'chat-plain': { model: 'GigaChat', messages: [{ role: 'user', content: "Say 'Hello' and nothing else" }] },
  'chat-stream': { model: 'GigaChat', messages: [{ role: 'user', content: 'Count from 1 to 3' }], stream: true },
  'chat-function-call': {
    model: 'GigaChat-2-Pro',
    messages: [{ role: 'user', content: 'Какая погода в Манжероке на 10 дней?' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'weather_forecast',
          description: 'Прогноз погоды на несколько дней',
          parameters: {
            type: 'object',
            properties: {
              location: { type: 'string', description: 'Город, например Москва' },
              num_days: { type: 'integer', description: 'Количество дней' },
            },
            required: ['location', 'num_days'],
          },
        },
      },
    ],
  },
  'chat-json-schema': {
    model: 'GigaChat-3-Ultra',
    messages: [{ role: 'user', content: 'Return {"answer":"ok","n":3} exactly.' }],
    profanity_check: false,
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'answer',
        strict: true,
        schema: {
          type: 'object',
          properties: { answer: { type: 'string' }, n: { type: 'integer' } },
          required: ['answer', 'n'],
          additionalProperties: false,
        },
      },
    },
  },
  'model-not-found': { model: 'NonExistentModel', messages: [{ role: 'user', content: 'Hello' }] },
} satisfies Record<string, OpenAIChatRequest>;

/** A completion in the recorded shape (cassette chat-plain) with other content. */
export function gigaChatCompletion(content: string, overrides: Record<string, unknown> = {}): any {
  const completion = structuredClone(recordedExchange('chat-plain').response);
  completion.choices[0].message.content = content;
  return { ...completion, ...overrides };
}

/** Stream chunks in the recorded shape (cassette chat-stream): role first, usage with the finish. */
export function gigaChatChunks(pieces: string[], finishReason = 'stop'): any[] {
  const [first, last] = recordedStreamChunks('chat-stream');
  const chunks = pieces.map((content, index) => {
    const chunk = structuredClone(first);
    chunk.choices[0].delta = index === 0 ? { content, role: 'assistant' } : { content };
    return chunk;
  });
  const finish = structuredClone(last);
  finish.choices[0].finish_reason = finishReason;
  return [...chunks, finish];
}
