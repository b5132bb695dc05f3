import { expect } from 'chai';
import { UpstreamError } from '../../../../gateway/openai/errors.ts';
import { parseGigaChatStream } from '../../../../gateway/providers/gigachat/parse-sse.ts';
import type { GigaChatChunk } from '../../../../gateway/providers/gigachat/wire-types.ts';
import { recordedExchange, recordedStreamChunks } from '../../../helpers/cassettes.ts';

/** The recorded SSE body of chat-stream, byte-exact. */
const recordedBody = recordedExchange('chat-stream').response as string;

/** A body as network reads, cut at the given byte offsets. */
async function* reads(body: string | Buffer, cuts: number[] = []): AsyncGenerator<Uint8Array> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    yield new Uint8Array(bytes.subarray(start, cut));
    start = cut;
  }
}

/** One read per byte. */
function byteByByte(body: string): AsyncGenerator<Uint8Array> {
  const length = Buffer.byteLength(body, 'utf8');
  return reads(
    body,
    Array.from({ length: length - 1 }, (_, index) => index + 1),
  );
}

async function parse(body: AsyncIterable<Uint8Array>): Promise<GigaChatChunk[]> {
  const chunks: GigaChatChunk[] = [];
  for await (const chunk of parseGigaChatStream(body)) chunks.push(chunk);
  return chunks;
}

async function parseError(body: string): Promise<UpstreamError> {
  try {
    await parse(reads(body));
  } catch (error) {
    expect(error).to.be.instanceOf(UpstreamError);
    return error as UpstreamError;
  }
  throw new Error('expected an UpstreamError');
}

/** A chunk in the recorded shape with other content. */
function chunk(content: string): GigaChatChunk {
  const [first] = recordedStreamChunks('chat-stream');
  const copy = structuredClone(first);
  copy.choices[0].delta.content = content;
  return copy;
}

const sse = (events: unknown[], separator = '\n\n') =>
  events.map((event) => `data: ${typeof event === 'string' ? event : JSON.stringify(event)}${separator}`).join('');

describe('parseGigaChatStream', () => {
  it('parses the recorded body into its chunks', async () => {
    const chunks = await parse(reads(recordedBody));
    expect(chunks).to.deep.equal(recordedStreamChunks('chat-stream'));
    expect(chunks).to.have.length(2);
    expect(chunks[0]?.choices[0]?.delta.content).to.equal('$1\\, 2\\, 3$');
    expect(chunks[1]?.usage?.total_tokens).to.equal(27);
  });

  it('parses the recorded body fed one byte at a time', async () => {
    expect(await parse(byteByByte(recordedBody))).to.deep.equal(recordedStreamChunks('chat-stream'));
  });

  it('reassembles Cyrillic text fed one byte at a time', async () => {
    const expected = [chunk('Привет, мир!'), chunk(' Ёжик в тумане.')];
    expect(await parse(byteByByte(sse([...expected, '[DONE]'])))).to.deep.equal(expected);
  });

  it('reassembles a Cyrillic character split between two reads', async () => {
    const expected = [chunk('Щука')];
    const body = sse([...expected, '[DONE]']);
    const bytes = Buffer.from(body, 'utf8');
    const cut = bytes.indexOf(Buffer.from('Щ', 'utf8')) + 1; // between the two bytes of Щ
    expect(bytes.subarray(cut - 1, cut + 1)).to.deep.equal(Buffer.from('Щ', 'utf8'));
    expect(await parse(reads(bytes, [cut]))).to.deep.equal(expected);
  });

  it('accepts \\r\\n\\r\\n between events', async () => {
    const expected = [chunk('один'), chunk('два')];
    expect(await parse(reads(sse([...expected, '[DONE]'], '\r\n\r\n')))).to.deep.equal(expected);
  });

  it('ignores events after [DONE], even ones that are not JSON', async () => {
    const body = sse([chunk('до'), '[DONE]', chunk('после'), 'not json']);
    const chunks = await parse(reads(body));
    expect(chunks.map((entry) => entry.choices[0]?.delta.content)).to.deep.equal(['до']);
  });

  it('reads the body to its end after [DONE]', async () => {
    let finished = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      yield* reads(sse([chunk('a'), '[DONE]']));
      yield Buffer.from(sse([chunk('late')]));
      finished = true;
    }
    expect(await parse(body())).to.have.length(1);
    expect(finished).to.equal(true);
  });

  it('ignores comment lines and event names', async () => {
    const body = `: keep-alive\n\nevent: message\n${sse([chunk('x'), '[DONE]'])}`;
    expect((await parse(reads(body))).map((entry) => entry.choices[0]?.delta.content)).to.deep.equal(['x']);
  });

  it('a data line that is not JSON → UpstreamError', async () => {
    const error = await parseError(sse([chunk('a'), '{"choices": [', '[DONE]']));
    expect(error.status).to.equal(502);
    expect(error.message).to.contain('not JSON');
  });

  it('an error object mid-stream → UpstreamError carrying its message', async () => {
    const error = await parseError(
      sse([chunk('a'), { status: 500, message: 'Internal Server Error: model overloaded' }, '[DONE]']),
    );
    expect(error.status).to.equal(502);
    expect(error.message).to.contain('Internal Server Error: model overloaded');
  });

  it('an event without choices and without a message → UpstreamError', async () => {
    const error = await parseError(sse([{ object: 'chat.completion' }]));
    expect(error.message).to.contain('without choices');
  });

  it('yields the chunks before a failure', async () => {
    const seen: GigaChatChunk[] = [];
    let caught: unknown;
    try {
      for await (const entry of parseGigaChatStream(reads(sse([chunk('a'), chunk('b'), 'oops'])))) seen.push(entry);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(UpstreamError);
    expect(seen.map((entry) => entry.choices[0]?.delta.content)).to.deep.equal(['a', 'b']);
  });
});
