import { expect } from 'chai';
import type { Dispatcher } from 'undici';
import { ResponseBody, ResponseTooLargeError } from '../../../gateway/lib/response-body.ts';

/** What undici's controller is told, recorded. */
function recordingController() {
  const calls: string[] = [];
  let paused = false;
  let aborted: Error | null = null;
  const controller: Dispatcher.DispatchController = {
    get aborted() {
      return aborted !== null;
    },
    get paused() {
      return paused;
    },
    get reason() {
      return aborted;
    },
    abort(reason) {
      calls.push(`abort: ${reason.message}`);
      aborted = reason;
    },
    pause() {
      calls.push('pause');
      paused = true;
    },
    resume() {
      calls.push('resume');
      paused = false;
    },
  };
  return { controller, calls };
}

const kb = (size: number, fill = 'a') => Buffer.alloc(size * 1024, fill);

describe('ResponseBody', () => {
  it('gives out chunks in order, those pushed before the reader asked and those after', async () => {
    const { controller, calls } = recordingController();
    const body = new ResponseBody(controller);
    body.push(Buffer.from('one '));
    const read = (async () => {
      const pieces: string[] = [];
      for await (const chunk of body) pieces.push(chunk.toString());
      return pieces;
    })();
    await new Promise(setImmediate);
    body.push(Buffer.from('two'));
    body.end();
    expect(await read).to.deep.equal(['one ', 'two']);
    expect(calls).to.deep.equal([]);
  });

  it('pauses the connection past 64 KB unread and resumes it once the reader catches up', async () => {
    const { controller, calls } = recordingController();
    const body = new ResponseBody(controller);
    body.push(kb(40));
    expect(calls).to.deep.equal([]);
    body.push(kb(40));
    expect(calls).to.deep.equal(['pause']);
    const reader = body[Symbol.asyncIterator]();
    await reader.next();
    expect(calls).to.deep.equal(['pause', 'resume']);
    body.end();
    expect((await reader.next()).value).to.have.length(40 * 1024);
    expect((await reader.next()).done).to.equal(true);
  });

  it('a reader that stops early aborts the request; one that read to the end does not', async () => {
    const early = recordingController();
    const stopped = new ResponseBody(early.controller);
    stopped.push(Buffer.from('first'));
    for await (const _ of stopped) break;
    expect(early.calls).to.deep.equal(['abort: response body destroyed']);

    const whole = recordingController();
    const complete = new ResponseBody(whole.controller);
    complete.push(Buffer.from('all'));
    complete.end();
    expect(await complete.text()).to.equal('all');
    complete.destroy();
    expect(whole.calls).to.deep.equal([]);
  });

  it('gives out what arrived before a failure, then throws the failure', async () => {
    const { controller } = recordingController();
    const body = new ResponseBody(controller);
    body.push(Buffer.from('partial'));
    body.fail(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    const pieces: string[] = [];
    let failure: unknown;
    try {
      for await (const chunk of body) pieces.push(chunk.toString());
    } catch (error) {
      failure = error;
    }
    expect(pieces).to.deep.equal(['partial']);
    expect(failure).to.include({ message: 'other side closed', code: 'UND_ERR_SOCKET' });
  });

  it('reads a body whole, in several chunks, and refuses one over the limit, aborting it', async () => {
    const { controller } = recordingController();
    const body = new ResponseBody(controller);
    body.push(Buffer.from('{"a":'));
    body.push(Buffer.from('1}'));
    body.end();
    expect(await body.text()).to.equal('{"a":1}');

    const large = recordingController();
    const tooLarge = new ResponseBody(large.controller);
    tooLarge.push(kb(2));
    let failure: unknown;
    try {
      await tooLarge.bytes(1024);
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(ResponseTooLargeError);
    expect(failure).to.have.property('message', 'the answer is larger than 1024 bytes, the most the gateway reads');
    expect(large.calls).to.deep.equal(['abort: response body destroyed']);
  });
});
