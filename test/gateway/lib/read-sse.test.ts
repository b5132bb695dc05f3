import { expect } from 'chai';
import { readSseData } from '../../../gateway/lib/read-sse.ts';

async function batches(reads: string[]): Promise<string[][]> {
  async function* body() {
    for (const read of reads) yield new TextEncoder().encode(read);
  }
  const seen: string[][] = [];
  for await (const batch of readSseData(body())) seen.push(batch);
  return seen;
}

describe('readSseData', () => {
  it('gives the events one read completed as one batch, and nothing for a read that completed none', async () => {
    expect(await batches(['data: 1\r\n\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n', 'data: 4', '\n\n'])).to.deep.equal([
      ['1', '2', '3'],
      ['4'],
    ]);
  });

  it('joins an event split inside a multi-byte character and a data field over several lines', async () => {
    const bytes = new TextEncoder().encode('data: Пр\ndata: ивет\n\n');
    async function* body() {
      yield bytes.subarray(0, 8);
      yield bytes.subarray(8);
    }
    const seen: string[][] = [];
    for await (const batch of readSseData(body())) seen.push(batch);
    expect(seen).to.deep.equal([['Пр\nивет']]);
  });
});
