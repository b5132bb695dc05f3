import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from '../config.ts';
import { currentRequest } from './request-context.ts';

export type { Logger };

/** The request id of the line's request (request-context.ts); pino merges the result into the line, so it must be new. */
function requestFields(): Record<string, string> {
  const request = currentRequest();
  return request === undefined ? {} : { requestId: request.requestId };
}

/**
 * JSON lines on stdout. A line written while a request is served carries its `requestId`.
 * Authorization material is redacted wherever a caller nests it.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: requestFields,
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
