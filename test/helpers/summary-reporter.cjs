// Mocha's spec reporter plus one closing line, `N passed, M failed`, that CI reads.
const { Spec } = require('mocha').reporters;
class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const { passes, failures } = runner.stats;
      process.stdout.write(`${passes} passed, ${failures} failed\n`);
    });
  }
}
module.exports = SummaryReporter;
