import { expect } from 'chai';
import { geminiApiRoot, geminiModelPath } from '../../../../gateway/providers/gemini/client.ts';

describe('geminiApiRoot', () => {
  it("is GEMINI_BASE_URL's origin and its path with v1beta/ under it, with or without a trailing slash", () => {
    expect(geminiApiRoot(new URL('https://generativelanguage.googleapis.com'))).to.deep.equal({
      origin: 'https://generativelanguage.googleapis.com',
      path: '/v1beta/',
    });
    for (const base of ['http://10.0.0.5:8080/google', 'http://10.0.0.5:8080/google/']) {
      expect(geminiApiRoot(new URL(base))).to.deep.equal({ origin: 'http://10.0.0.5:8080', path: '/google/v1beta/' });
    }
  });
});

describe('geminiModelPath', () => {
  it('names a model models/{id} and a tuned model tunedModels/{id}, the id as one encoded segment', () => {
    expect(geminiModelPath('gemini-2.5-flash')).to.equal('models/gemini-2.5-flash');
    expect(geminiModelPath('tunedModels/my-model')).to.equal('tunedModels/my-model');
    expect(geminiModelPath('gemini-x:streamGenerateContent?alt=json#')).to.equal(
      'models/gemini-x%3AstreamGenerateContent%3Falt%3Djson%23',
    );
    expect(geminiModelPath('tunedModels/a/b')).to.equal('tunedModels/a%2Fb');
  });
});
