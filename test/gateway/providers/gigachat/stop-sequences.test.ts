import { expect } from 'chai';
import { findStopSequence, StopSequenceFilter } from '../../../../gateway/providers/gigachat/stop-sequences.ts';

/** Pushes every piece through a new filter and returns what came out, plus the flush. */
function run(stops: string[], pieces: string[]) {
  const filter = new StopSequenceFilter(stops);
  const passed = pieces.map((piece) => filter.push(piece));
  return { passed, flushed: filter.flush() };
}

describe('findStopSequence', () => {
  it('finds a stop sequence', () => {
    expect(findStopSequence('Hello STOP there', ['STOP'])).to.equal(6);
  });

  it('returns -1 when none occurs', () => {
    expect(findStopSequence('Hello there', ['STOP', '###'])).to.equal(-1);
    expect(findStopSequence('', ['STOP'])).to.equal(-1);
  });

  it('returns the earliest of several, whatever their order in the list', () => {
    expect(findStopSequence('a ### b STOP', ['STOP', '###'])).to.equal(2);
    expect(findStopSequence('a STOP b ###', ['###', 'STOP'])).to.equal(2);
  });

  it('returns -1 without stop sequences', () => {
    expect(findStopSequence('anything', [])).to.equal(-1);
  });

  it('finds Cyrillic and multi-line sequences', () => {
    expect(findStopSequence('Ответ: да\n\nКонец', ['\n\n'])).to.equal(9);
    expect(findStopSequence('раз два стоп три', ['стоп'])).to.equal(8);
  });
});

describe('StopSequenceFilter', () => {
  it('passes text without a possible stop through at once', () => {
    expect(run(['STOP'], ['Hello', ' world'])).to.deep.equal({
      passed: [
        { text: 'Hello', stopped: false },
        { text: ' world', stopped: false },
      ],
      flushed: '',
    });
  });

  it('cuts before a stop sequence inside one piece', () => {
    expect(run(['STOP'], ['Hello STOP world']).passed).to.deep.equal([{ text: 'Hello ', stopped: true }]);
  });

  it('holds back a tail that may start a stop sequence and cuts when the rest arrives', () => {
    expect(run(['STOP'], ['Hello ST', 'OP world']).passed).to.deep.equal([
      { text: 'Hello ', stopped: false },
      { text: '', stopped: true },
    ]);
  });

  it('holds back over several pieces', () => {
    expect(run(['STOP'], ['S', 'T', 'O', 'P']).passed).to.deep.equal([
      { text: '', stopped: false },
      { text: '', stopped: false },
      { text: '', stopped: false },
      { text: '', stopped: true },
    ]);
  });

  it('releases the held-back tail with the next piece when it was not a stop sequence', () => {
    expect(run(['STOP'], ['Hello ST', 'ART']).passed).to.deep.equal([
      { text: 'Hello ', stopped: false },
      { text: 'START', stopped: false },
    ]);
  });

  it('releases the held-back tail on flush, once', () => {
    const filter = new StopSequenceFilter(['STOP']);
    expect(filter.push('Hello STO')).to.deep.equal({ text: 'Hello ', stopped: false });
    expect(filter.flush()).to.equal('STO');
    expect(filter.flush()).to.equal('');
  });

  it('holds back only as much as the longest possible prefix', () => {
    expect(run(['<|end|>', 'X'], ['abc <|e']).passed).to.deep.equal([{ text: 'abc ', stopped: false }]);
    expect(run(['<|end|>', 'X'], ['abc <|e']).flushed).to.equal('<|e');
  });

  it('cuts at the earliest of several stop sequences', () => {
    expect(run(['world', 'lo'], ['Hello world']).passed).to.deep.equal([{ text: 'Hel', stopped: true }]);
  });

  it('a one-character stop sequence holds nothing back', () => {
    expect(run(['.'], ['Hi', ' there']).passed).to.deep.equal([
      { text: 'Hi', stopped: false },
      { text: ' there', stopped: false },
    ]);
  });
});
