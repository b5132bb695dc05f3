import { expect } from 'chai';
import { geminiApiRoot } from '../../../../gateway/providers/gemini/generate.ts';

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
