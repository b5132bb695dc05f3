import { expect } from 'chai';
import { parseDataUrl } from '../../../gateway/openai/data-url.ts';

const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PIXEL_URL = `data:image/png;base64,${PIXEL}`;

describe('parseDataUrl', () => {
  for (const [url, expected] of [
    [PIXEL_URL, { mimeType: 'image/png', data: PIXEL }],
    ['data:Image/JPEG;base64,/9j/', { mimeType: 'image/jpeg', data: '/9j/' }],
    ['data:application/pdf;name=a.pdf;base64,JVBE\nRi0=', { mimeType: 'application/pdf', data: 'JVBERi0=' }],
    ['data:image/svg+xml;charset=utf-8;base64,PHN2Zz4=', { mimeType: 'image/svg+xml', data: 'PHN2Zz4=' }],
    ['data:image/png,rawbytes', undefined],
    ['data:image/png;base64,', undefined],
    ['data:;base64,AAAA', undefined],
    ['data:image/png;base64,not base64!', undefined],
    ['https://example.com/a.png', undefined],
  ] as const) {
    it(`${JSON.stringify(url.slice(0, 60))} → ${JSON.stringify(expected)}`, () => {
      expect(parseDataUrl(url)).to.deep.equal(expected);
    });
  }
});
