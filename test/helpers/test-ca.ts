import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  /** PEM of the root, the file GIGACHAT_CA_FILE would point at. */
  caPemFile: string;
  /** The same root in DER, as Gosuslugi's .cer download. */
  caDerFile: string;
  /** Server key and certificate for 127.0.0.1, issued by the root. */
  serverKey: string;
  serverCert: string;
}

/**
 * Makes a throw-away root CA and a server certificate it signed for 127.0.0.1, with openssl, in
 * `dir`. Stands in for the Russian Trusted Root CA, which no default trust store has.
 */
export function createTestCa(dir: string): TestCa {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Test Trusted Root CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  );
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
    '-out',
    file('server.pem'),
  );
  openssl('x509', '-in', file('ca.pem'), '-outform', 'der', '-out', file('ca.cer'));
  return {
    caPemFile: file('ca.pem'),
    caDerFile: file('ca.cer'),
    serverKey: readFileSync(file('server.key'), 'utf8'),
    serverCert: readFileSync(file('server.pem'), 'utf8'),
  };
}
