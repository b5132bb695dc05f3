import { expect } from 'chai';
import { createLogger, flatLineWriter } from '../../../gateway/lib/logger.ts';
import { runInRequest } from '../../../gateway/lib/request-context.ts';

describe('createLogger', () => {
  it('loggers without a destination share one batched stdout: one exit flush, however many there are', () => {
    createLogger('silent'); // the first may be the one that opens it
    const exitListeners = process.listenerCount('exit');
    for (let index = 0; index < 20; index++) createLogger('info');
    expect(process.listenerCount('exit')).to.equal(exitListeners);
  });
});

describe('flatLineWriter', () => {
  function capture(level: Parameters<typeof createLogger>[0]) {
    const lines: string[] = [];
    const logger = createLogger(level, { write: (line: string) => lines.push(line) });
    return { logger, lines, writeLine: flatLineWriter(logger) };
  }

  it("writes a line as pino writes the logger's own: level label, time, request id, then the fields in order", () => {
    const { logger, lines, writeLine } = capture('info');
    runInRequest({ requestId: 'req-1', logPrompt: undefined }, () => logger.info({ method: 'POST', status: 200 }));
    writeLine('info', { requestId: 'req-1', method: 'POST', status: 200 });
    expect(lines).to.have.length(2);
    const [fromPino, flat] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(flat as object)).to.deep.equal(Object.keys(fromPino as object));
    expect({ ...flat, time: 0 }).to.deep.equal({ ...fromPino, time: 0 });
    expect(flat?.time)
      .to.be.a('number')
      .within(fromPino?.time as number, Date.now());
    expect(lines[1]).to.match(/^\{"level":"info","time":\d+,"requestId":"req-1","method":"POST","status":200\}\n$/);
  });

  it('leaves out undefined fields and escapes strings, so a line stays one JSON line whatever a client sent', () => {
    const { lines, writeLine } = capture('info');
    const model = 'giga"chat\\\n\u2028модель\u0000';
    writeLine('warn', { requestId: 'req-2', client: undefined, model, ms: 1.5 });
    expect(lines).to.have.length(1);
    expect(lines[0]?.indexOf('\n')).to.equal((lines[0]?.length ?? 0) - 1);
    const parsed = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(parsed).to.include({ level: 'warn', requestId: 'req-2', model, ms: 1.5 });
    expect(parsed).not.to.have.property('client');
  });

  it("writes only at the logger's level", () => {
    const warn = capture('warn');
    warn.writeLine('info', { requestId: 'req-3' });
    warn.writeLine('warn', { requestId: 'req-4' });
    warn.writeLine('error', { requestId: 'req-5' });
    expect(warn.lines.map((line) => (JSON.parse(line) as { requestId: string }).requestId)).to.deep.equal([
      'req-4',
      'req-5',
    ]);
    const silent = capture('silent');
    silent.writeLine('error', { requestId: 'req-6' });
    expect(silent.lines).to.deep.equal([]);
  });
});
