import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Node flags `npm start` gives the gateway (package.json), without the .env file's. */
export function startFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
  return (scripts.start as string).split(' ').filter((word) => word.startsWith('--') && !word.startsWith('--env-file'));
}
