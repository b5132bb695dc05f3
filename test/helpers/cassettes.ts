import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type nock from 'nock';

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
