import { expect } from 'chai';
import { checkRate } from '../../../gateway/clients/rate-check.ts';

const none = { previous: 0, current: 0 };

describe('checkRate', () => {
  it('lets everything through without limits', () => {
    expect(checkRate({ requests: { previous: 1e9, current: 1e9 }, tokens: none }, 0, {})).to.equal(undefined);
  });

  it('refuses on requests per minute, naming the limit and the wait', () => {
    const refusal = checkRate({ requests: { previous: 0, current: 3 }, tokens: none }, 30_000, {
      requestsPerMinute: 3,
    });
    expect(refusal).to.include({ limit: 'requests', perMinute: 3 });
    expect(refusal?.waitMs).to.be.closeTo(30_000 + 20_000, 1e-6);
  });

  it('refuses on tokens once the counted tokens reach the limit, not before', () => {
    const limits = { tokensPerMinute: 100 };
    expect(checkRate({ requests: none, tokens: { previous: 0, current: 99 } }, 0, limits)).to.equal(undefined);
    expect(checkRate({ requests: none, tokens: { previous: 0, current: 100 } }, 0, limits)).to.include({
      limit: 'tokens',
      perMinute: 100,
    });
  });

  it('reports the longer wait when both limits refuse', () => {
    const counts = { requests: { previous: 2, current: 0 }, tokens: { previous: 0, current: 500 } };
    const refusal = checkRate(counts, 0, { requestsPerMinute: 2, tokensPerMinute: 100 });
    expect(refusal?.limit).to.equal('tokens');
  });
});
