import { expect } from 'chai';
import { dailyDate, utcDate } from '../../../gateway/clients/usage-row.ts';

describe('usage dates', () => {
  it('are UTC dates, whatever the local time zone', () => {
    expect(utcDate(Date.parse('2026-11-21T23:59:59.999Z'))).to.equal('2026-11-21');
    expect(utcDate(Date.parse('2026-11-22T00:00:00+03:00'))).to.equal('2026-11-21');
  });

  it('move on at UTC midnight when made once a day', () => {
    const dateOf = dailyDate();
    expect(dateOf(Date.parse('2026-11-21T23:59:59.999Z'))).to.equal('2026-11-21');
    expect(dateOf(Date.parse('2026-11-22T00:00:00.000Z'))).to.equal('2026-11-22');
    expect(dateOf(Date.parse('2026-12-01T12:00:00.000Z'))).to.equal('2026-12-01');
  });
});
