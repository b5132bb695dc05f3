import { expect } from 'chai';
import { UpstreamError } from '../../../../gateway/openai/errors.ts';
import { gigaChatEventError } from '../../../../gateway/providers/gigachat/client.ts';
import { recordedStreamChunks } from '../../../helpers/cassettes.ts';

describe('gigaChatEventError', () => {
  it('passes the recorded chunks (they carry choices)', () => {
    for (const chunk of recordedStreamChunks('chat-stream')) expect(gigaChatEventError(chunk)).to.equal(undefined);
  });

  it('an error object mid-stream → UpstreamError carrying its message', () => {
    const error = gigaChatEventError({ status: 500, message: 'Internal Server Error: model overloaded' });
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error?.message).to.equal('GigaChat reported an error mid-stream: Internal Server Error: model overloaded');
  });

  it('an event without choices and without a message says so', () => {
    expect(gigaChatEventError({ object: 'chat.completion' })?.message).to.contain('an event without choices');
    expect(gigaChatEventError(null)?.message).to.contain('an event without choices');
  });
});
