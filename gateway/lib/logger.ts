import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from '../config.ts';

export type { Logger };

/** JSON lines on stdout. Authorization material is redacted wherever a caller nests it. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: {
      paths: [
        '*.authorization',
        '*.Authorization',
        '*.access_token',
        '*.credentials',
        '*.token',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
