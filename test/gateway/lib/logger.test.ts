import { expect } from 'chai';
import { createLogger } from '../../../gateway/lib/logger.ts';

describe('createLogger', () => {
  it('loggers without a destination share one batched stdout: one exit flush, however many there are', () => {
    createLogger('silent'); // the first may be the one that opens it
    const exitListeners = process.listenerCount('exit');
    for (let index = 0; index < 20; index++) createLogger('info');
    expect(process.listenerCount('exit')).to.equal(exitListeners);
  });
});
