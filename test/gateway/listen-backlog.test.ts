import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { startTestGateway } from '../helpers/gateway.ts';

// LISTEN_BACKLOG reaches the listening socket: Linux's `ss -ltn` shows a listener's backlog as its Send-Q.

/** The backlog of the socket listening on 127.0.0.1:`port`, as the kernel reports it. */
function backlogOf(port: number): number {
  const lines = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' })
    .trim()
    .split('\n');
  const [, , sendQ] = (lines[0] ?? '').trim().split(/\s+/);
  return Number(sendQ);
}

describe('LISTEN_BACKLOG: the kernel queue of new connections', () => {
  before(function () {
    try {
      execFileSync('ss', ['-V']);
    } catch {
      this.skip(); // ss (iproute2) reads the queue; without it there is nothing to look at
    }
  });

  for (const [value, expected] of [
    ['123', () => 123],
    [undefined, () => Math.min(4096, Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8')))],
  ] as const) {
    it(`listens with ${value ?? 'the default'}`, async () => {
      const gateway = await startTestGateway(value === undefined ? {} : { LISTEN_BACKLOG: value });
      try {
        expect(backlogOf(Number(new URL(gateway.url).port))).to.equal(expected());
      } finally {
        await gateway.close();
      }
    });
  }
});
