import nock from 'nock';
import { GIGACHAT_CASSETTES } from './cassettes.ts';
import { allowLoopbackOnly } from './setup.ts';

type Definition = nock.Definition;

/**
 * nock back over the GigaChat cassettes. Tests replay them (`lockdown`: nothing else is allowed).
 * To re-record against the real API: `NOCK_BACK_MODE=update GIGACHAT_CREDENTIALS=… npx mocha
 * test/gateway/providers/gigachat/recorded.test.ts`; the recording is scrubbed before it is written.
 */
const mode = (process.env.NOCK_BACK_MODE ?? 'lockdown') as nock.BackMode;
export const RECORDING = mode === 'record' || mode === 'update';

/** Token fields of GigaChat's OAuth answers (`access_token`; `tok` in the user/password flow). */
const TOKEN_FIELDS = ['access_token', 'tok'];

/** Removes every secret from a recording: OAuth tokens, cookies, credentials in headers. */
export function scrubRecording(definitions: Definition[]): Definition[] {
  return definitions.map((definition) => {
    const scrubbed: Definition = { ...definition };
    const response = definition.response;
    if (typeof response === 'object' && response !== null && !Array.isArray(response)) {
      const copy: Record<string, unknown> = { ...response };
      for (const field of TOKEN_FIELDS) if (field in copy) copy[field] = 'scrubbed-access-token';
      scrubbed.response = copy;
    }
    if (definition.rawHeaders !== undefined && !Array.isArray(definition.rawHeaders)) {
      const headers = { ...definition.rawHeaders };
      for (const name of Object.keys(headers)) {
        if (/^(set-cookie|authorization|cookie)$/i.test(name)) delete headers[name];
      }
      scrubbed.rawHeaders = headers;
    }
    delete scrubbed.reqheaders;
    return scrubbed;
  });
}

/** Runs `action` with one cassette loaded and checks every recorded call was made. */
export async function withCassette<T>(name: string, action: () => Promise<T>): Promise<T> {
  nock.back.fixtures = GIGACHAT_CASSETTES;
  nock.back.setMode(mode);
  const { nockDone, context } = await nock.back(`${name}.json`, { afterRecord: scrubRecording });
  try {
    const result = await action();
    context.assertScopesFinished();
    return result;
  } finally {
    nockDone();
    allowLoopbackOnly();
  }
}
