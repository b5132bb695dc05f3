import { expect } from 'chai';
import { UsageBuffer } from '../../../gateway/clients/usage-buffer.ts';

const row = (
  client: string | null,
  model: string,
  prompt: number,
  completion: number,
  date = '2026-11-21',
  credential = 'operator:default',
) => ({
  date,
  client,
  provider: 'gigachat',
  model,
  credential,
  requests: 1,
  prompt_tokens: prompt,
  completion_tokens: completion,
});

describe('UsageBuffer', () => {
  it('sums rows of the same day, client, provider, model and credential', () => {
    const buffer = new UsageBuffer();
    buffer.add(row('1c', 'GigaChat', 10, 5));
    buffer.add(row('1c', 'GigaChat', 1, 2));
    buffer.add(row('1c', 'GigaChat-Max', 3, 3));
    buffer.add(row('b24', 'GigaChat', 7, 0));
    buffer.add(row(null, 'GigaChat', 1, 1));
    buffer.add(row('1c', 'GigaChat', 1, 1, '2026-11-22'));
    buffer.add(row('1c', 'GigaChat', 4, 4, '2026-11-21', 'own'));
    expect(buffer.size).to.equal(6);
    expect(buffer.drain()).to.deep.equal([
      { ...row('1c', 'GigaChat', 11, 7), requests: 2 },
      row('1c', 'GigaChat-Max', 3, 3),
      row('b24', 'GigaChat', 7, 0),
      row(null, 'GigaChat', 1, 1),
      row('1c', 'GigaChat', 1, 1, '2026-11-22'),
      row('1c', 'GigaChat', 4, 4, '2026-11-21', 'own'),
    ]);
  });

  it('is empty after a drain, and does not change rows it was given', () => {
    const buffer = new UsageBuffer();
    const given = row('1c', 'GigaChat', 1, 1);
    buffer.add(given);
    buffer.add(row('1c', 'GigaChat', 1, 1));
    expect(given.requests).to.equal(1);
    buffer.drain();
    expect(buffer.size).to.equal(0);
    expect(buffer.drain()).to.deep.equal([]);
  });
});
