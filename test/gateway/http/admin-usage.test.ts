import { expect } from 'chai';
import { parseUsageQuery } from '../../../gateway/http/admin-usage.ts';
import { GatewayError } from '../../../gateway/openai/errors.ts';

const TODAY = '2026-11-21';

function paramAtFault(query: Record<string, string | string[]>): string | null {
  try {
    parseUsageQuery(query, TODAY);
  } catch (error) {
    expect(error).to.be.instanceOf(GatewayError);
    expect((error as GatewayError).status).to.equal(400);
    return (error as GatewayError).param;
  }
  throw new Error('expected a 400');
}

describe('GET /admin/usage query', () => {
  it('defaults to today, and `to` alone to that one day', () => {
    expect(parseUsageQuery({}, TODAY)).to.deep.equal({ from: TODAY, to: TODAY });
    expect(parseUsageQuery({ to: '2026-01-05' }, TODAY)).to.deep.equal({ from: '2026-01-05', to: '2026-01-05' });
    expect(parseUsageQuery({ from: '2026-11-01' }, TODAY)).to.deep.equal({ from: '2026-11-01', to: TODAY });
  });

  it('keeps the filters', () => {
    expect(parseUsageQuery({ client: '1c-accounting', model: 'gigachat/GigaChat' }, TODAY)).to.deep.equal({
      from: TODAY,
      to: TODAY,
      client: '1c-accounting',
      model: 'gigachat/GigaChat',
    });
  });

  it('accepts 366 days, not 367', () => {
    expect(parseUsageQuery({ from: '2024-01-01', to: '2024-12-31' }, TODAY).from).to.equal('2024-01-01');
    expect(paramAtFault({ from: '2024-01-01', to: '2025-01-01' })).to.equal('from');
  });

  it('names the param at fault', () => {
    expect(paramAtFault({ from: '2026-1-01' })).to.equal('from');
    expect(paramAtFault({ to: '2026-02-29' })).to.equal('to'); // not a leap year
    expect(paramAtFault({ from: '2026-11-22' })).to.equal('from'); // after today
    expect(paramAtFault({ model: ['a', 'b'] })).to.equal('model');
    expect(paramAtFault({ client: '' })).to.equal('client');
    expect(paramAtFault({ limit: '10' })).to.equal('limit');
  });
});
