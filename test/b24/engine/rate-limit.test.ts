import { expect } from 'chai';
import { PortalRateLimit } from '../../../b24-app/engine/rate-limit.ts';

describe('Bitrix24 engine calls: the per-portal rate limit (rate-limit.ts)', () => {
  it('limits each portal on its own, refilling over time', () => {
    let now = 0;
    const limit = new PortalRateLimit(2, () => now);
    expect([limit.take('a'), limit.take('a'), limit.take('b')]).to.deep.equal([0, 0, 0]);
    expect(limit.take('a')).to.equal(30);
    now += 30_000;
    expect(limit.take('a')).to.equal(0);
    expect(limit.take('a')).to.be.greaterThan(0);
    limit.forget('a');
    expect(limit.take('a')).to.equal(0);
  });
});
