import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type nock from 'nock';
import { GIGACHAT_CASSETTES } from '../../../helpers/cassettes.ts';
import { scrubRecording } from '../../../helpers/nock-back.ts';

describe('recordings stay free of secrets', () => {
  it('scrubs OAuth tokens, cookies and authorization headers from a fresh recording', () => {
    const recorded: nock.Definition[] = [
      {
        scope: 'https://ngw.devices.sberbank.ru:9443',
        method: 'POST',
        path: '/api/v2/oauth',
        body: 'scope=GIGACHAT_API_PERS',
        status: 200,
        response: { access_token: 'eyJhbGciOiJSUzI1NiJ9.real-token', expires_at: 1795223714273 },
        rawHeaders: { 'content-type': 'application/json', 'set-cookie': 'session=abc' },
        reqheaders: { authorization: 'Basic cmVhbDprZXk=' },
      },
      {
        scope: 'https://gigachat.devices.sberbank.ru:443',
        method: 'POST',
        path: '/api/v1/token',
        status: 200,
        response: { tok: 'real-user-token', exp: 1795223714 },
        rawHeaders: { Authorization: 'Bearer real-user-token' },
      },
    ];
    const scrubbed = JSON.stringify(scrubRecording(recorded));
    for (const secret of ['real-token', 'session=abc', 'cmVhbDprZXk=', 'real-user-token']) {
      expect(scrubbed).not.to.contain(secret);
    }
    expect(scrubbed).to.contain('scrubbed-access-token');
    expect(scrubbed).to.contain('1795223714273'); // the expiry is kept: it is not a secret
  });

  it('the committed cassettes hold no token or credential', () => {
    for (const file of readdirSync(GIGACHAT_CASSETTES)) {
      const text = readFileSync(join(GIGACHAT_CASSETTES, file), 'utf8');
      const definitions = JSON.parse(text) as nock.Definition[];
      for (const definition of definitions) {
        const response = definition.response as { access_token?: string } | undefined;
        if (response?.access_token !== undefined) expect(response.access_token, file).to.equal('scrubbed-access-token');
        expect(definition.reqheaders, file).to.equal(undefined);
      }
      expect(text, file).not.to.match(/"(authorization|set-cookie)"/i);
      expect(text, file).not.to.match(/eyJ[\w-]{10,}/); // JWT/JWE-looking strings
    }
  });
});
