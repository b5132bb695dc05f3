import { expect } from 'chai';
import {
  fits,
  retryAfterSeconds,
  rollForward,
  slidingCount,
  WINDOW_MS,
  waitMs,
  windowAt,
} from '../../../gateway/clients/sliding-window.ts';

describe('sliding window (two fixed windows)', () => {
  it('places a time in its fixed window', () => {
    expect(windowAt(3 * WINDOW_MS + 1500)).to.deep.equal({ index: 3, elapsedMs: 1500 });
    expect(windowAt(3 * WINDOW_MS)).to.deep.equal({ index: 3, elapsedMs: 0 });
  });

  it('weights the previous window by the share the sliding minute still covers', () => {
    expect(slidingCount({ previous: 10, current: 2 }, 0)).to.equal(12);
    expect(slidingCount({ previous: 10, current: 2 }, WINDOW_MS / 4)).to.equal(9.5);
    expect(slidingCount({ previous: 10, current: 2 }, WINDOW_MS / 2)).to.equal(7);
  });

  it('lets a request in while the count plus its cost stays within the limit', () => {
    expect(fits({ previous: 0, current: 9 }, 0, 10, 1)).to.equal(true);
    expect(fits({ previous: 0, current: 10 }, 0, 10, 1)).to.equal(false);
    expect(fits({ previous: 10, current: 0 }, 0, 10, 1)).to.equal(false);
    expect(fits({ previous: 10, current: 0 }, WINDOW_MS / 10, 10, 1)).to.equal(true);
  });

  it('waits for the previous window to shrink when the current one has room', () => {
    // 10 + 0 at the start: one slot frees once a tenth of the previous window has left.
    expect(waitMs({ previous: 10, current: 0 }, 0, 10, 1)).to.be.closeTo(WINDOW_MS / 10, 1e-6);
    // 8 previous and 4 current, a quarter in: one more fits once the previous share is down to 5 of 8.
    expect(waitMs({ previous: 8, current: 4 }, WINDOW_MS / 4, 10, 1)).to.be.closeTo(
      (WINDOW_MS * 3) / 8 - WINDOW_MS / 4,
      1e-6,
    );
  });

  it('waits into the next window when the current one alone is full', () => {
    // 10 of 10 in the current window, 15 s in: 45 s to its end, then a tenth of it must leave.
    expect(waitMs({ previous: 0, current: 10 }, 15_000, 10, 1)).to.be.closeTo(45_000 + WINDOW_MS / 10, 1e-6);
  });

  it('says no wait when the request fits, and the wait is exactly when it starts to fit', () => {
    const counts = { previous: 7, current: 5 };
    expect(waitMs({ previous: 0, current: 1 }, 0, 10, 1)).to.equal(0);
    const wait = waitMs(counts, 1000, 10, 1);
    expect(fits(counts, 1000 + wait - 1, 10, 1)).to.equal(false);
    expect(fits(counts, 1000 + wait, 10, 1)).to.equal(true);
  });

  it('rounds Retry-After up to whole seconds, at least one', () => {
    expect(retryAfterSeconds(0)).to.equal(1);
    expect(retryAfterSeconds(1)).to.equal(1);
    expect(retryAfterSeconds(1001)).to.equal(2);
    expect(retryAfterSeconds(6000)).to.equal(6);
  });

  it('rolls counts forward: the current becomes the previous, older ones are gone', () => {
    const counts = { previous: 3, current: 4 };
    expect(rollForward(counts, 5, 5)).to.equal(counts);
    expect(rollForward(counts, 5, 6)).to.deep.equal({ previous: 4, current: 0 });
    expect(rollForward(counts, 5, 7)).to.deep.equal({ previous: 0, current: 0 });
  });
});
