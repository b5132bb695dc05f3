import { expect } from 'chai';
import { compileModelPatterns } from '../../../gateway/clients/model-patterns.ts';

describe('allowed-model patterns', () => {
  it('allows every model without patterns, or with "*"', () => {
    expect(compileModelPatterns(undefined)('anything')).to.equal(true);
    expect(compileModelPatterns(['*'])('gemini-2.5-pro')).to.equal(true);
  });

  it('matches globs case-insensitively and whole names only', () => {
    const allows = compileModelPatterns(['smart', 'GigaChat-*']);
    expect(allows('smart')).to.equal(true);
    expect(allows('SMART')).to.equal(true);
    expect(allows('gigachat-2-max')).to.equal(true);
    expect(allows('smarter')).to.equal(false);
    expect(allows('gemini-2.5-pro')).to.equal(false);
    expect(allows('GigaChat')).to.equal(false);
  });

  it('matches provider/model by the full name or the part after the slash', () => {
    expect(compileModelPatterns(['GigaChat-*'])('gigachat/GigaChat-2-Max')).to.equal(true);
    expect(compileModelPatterns(['gemini/*'])('gemini/gemini-2.5-flash')).to.equal(true);
    expect(compileModelPatterns(['gemini/*'])('gemini-2.5-flash')).to.equal(false);
  });

  it('takes regular-expression characters literally', () => {
    const allows = compileModelPatterns(['gemini-2.5-pro']);
    expect(allows('gemini-2.5-pro')).to.equal(true);
    expect(allows('gemini-2x5-pro')).to.equal(false);
  });
});
