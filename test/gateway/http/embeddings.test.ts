import { expect } from 'chai';
import { encodeFloat32Base64 } from '../../../gateway/http/embeddings.ts';
import { geminiFixture } from '../../helpers/gemini-mock.ts';

/** How the openai SDK decodes a base64 embedding: little-endian float32. */
function decode(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
}

describe('encodeFloat32Base64', () => {
  it('writes little-endian float32, whatever the byte order of this machine', () => {
    // 1.0 is 0x3f800000; -2.0 is 0xc0000000.
    expect(Buffer.from(encodeFloat32Base64([1, -2]), 'base64')).to.deep.equal(
      Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]),
    );
  });

  it('round-trips the recorded Gemini vectors (embeddings-batch.json) at float32 precision', () => {
    for (const { values } of geminiFixture('embeddings-batch').embeddings as Array<{ values: number[] }>) {
      expect(decode(encodeFloat32Base64(values))).to.deep.equal(values.map(Math.fround));
    }
  });

  it('an empty vector → an empty string', () => {
    expect(encodeFloat32Base64([])).to.equal('');
  });

  it('is 4 bytes per value', () => {
    expect(Buffer.from(encodeFloat32Base64(new Array(768).fill(0.25)), 'base64').length).to.equal(3072);
  });
});
