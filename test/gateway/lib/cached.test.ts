import { expect } from 'chai';
import { cached } from '../../../gateway/lib/cached.ts';

describe('cached', () => {
  let now: number;
  let loads: number;
  let failNext: boolean;
  const load = async () => {
    loads += 1;
    if (failNext) throw new Error('upstream down');
    return `value ${loads}`;
  };

  beforeEach(() => {
    now = 1_000_000;
    loads = 0;
    failNext = false;
  });

  it('loads once for concurrent callers and reuses the value within the TTL', async () => {
    const get = cached(load, 60_000, () => now);
    expect(await Promise.all([get(), get(), get()])).to.deep.equal(['value 1', 'value 1', 'value 1']);
    now += 59_000;
    expect(await get()).to.equal('value 1');
    expect(loads).to.equal(1);
  });

  it('loads again once the TTL has passed', async () => {
    const get = cached(load, 60_000, () => now);
    await get();
    now += 60_001;
    expect(await get()).to.equal('value 2');
  });

  it('serves the last good value when a refresh fails, and tries again next time', async () => {
    const get = cached(load, 60_000, () => now);
    await get();
    now += 60_001;
    failNext = true;
    expect(await get()).to.equal('value 1');
    failNext = false;
    expect(await get()).to.equal('value 3');
  });

  it('rethrows when it has never loaded a value', async () => {
    failNext = true;
    const get = cached(load, 60_000, () => now);
    const failure = await get().catch((error: Error) => error.message);
    expect(failure).to.equal('upstream down');
  });
});
