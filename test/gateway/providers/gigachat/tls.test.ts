import { rmSync } from 'node:fs';
import { expect } from 'chai';
import OpenAI, { type APIError } from 'openai';
import { startTestGateway, tempDir } from '../../../helpers/gateway.ts';
import { GigaChatMock } from '../../../helpers/gigachat-mock.ts';
import { createTestCa, type TestCa } from '../../../helpers/test-ca.ts';

const ask = { model: 'GigaChat', messages: [{ role: 'user' as const, content: 'Привет' }] };

// GigaChat's hosts chain to the Russian Trusted Root CA, absent from Node's store. The gateway must
// trust GIGACHAT_CA_FILE for them while keeping verification on: an unknown CA is still refused.
describe('GigaChat over HTTPS with GIGACHAT_CA_FILE', () => {
  let dir: string;
  let ca: TestCa;
  let mock: GigaChatMock;

  before(() => {
    dir = tempDir();
    ca = createTestCa(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    mock = await GigaChatMock.start({ key: ca.serverKey, cert: ca.serverCert });
  });
  afterEach(async () => {
    await mock.close();
  });

  it('refuses the certificate when the CA is not configured (verification stays on)', async () => {
    const gateway = await startTestGateway(mock.env());
    try {
      const error = await gateway.client.chat.completions.create(ask).catch((failure: unknown) => failure);
      expect(error).to.be.instanceOf(OpenAI.InternalServerError);
      expect((error as APIError).code).to.equal('upstream_tls_error');
      expect((error as APIError).message).to.contain('GIGACHAT_CA_FILE');
      expect(mock.oauthCalls).to.equal(0);
    } finally {
      await gateway.close();
    }
  });

  for (const format of ['PEM', 'DER'] as const) {
    it(`trusts the CA from a ${format} file for both the OAuth and the API host`, async () => {
      const gateway = await startTestGateway({
        ...mock.env(),
        GIGACHAT_CA_FILE: format === 'PEM' ? ca.caPemFile : ca.caDerFile,
      });
      try {
        const completion = await gateway.client.chat.completions.create(ask);
        expect(completion.choices[0]?.message.content).to.equal('Hello.');
        expect(mock.oauthCalls).to.equal(1);
        expect(mock.requestsTo('/api/v1/chat/completions').length).to.equal(1);
      } finally {
        await gateway.close();
      }
    });
  }
});
