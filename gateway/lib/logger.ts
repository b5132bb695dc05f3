import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from '../config.ts';
import { currentRequest } from './request-context.ts';

export type { Logger };

/** The request id of the line's request (request-context.ts); pino merges the result into the line, so it must be new. */
function requestFields(): Record<string, string> {
  const request = currentRequest();
  return request === undefined ? {} : { requestId: request.requestId };
}

/** The longest a line waits in the stdout buffer before it is written. */
const FLUSH_INTERVAL_MS = 100;
/** Characters gathered before a write. */
const BATCH_LENGTH = 4096;

let stdout: DestinationStream | undefined;

/**
 * stdout, written in batches of about 4 KB, at least every FLUSH_INTERVAL_MS, and whatever is left
 * when the process exits. One write per access-log line, or pino's default of handing each write
 * to libuv's thread pool, costs a loaded gateway more than the rest of the line's work
 * (README, Performance). A process killed outright (SIGKILL) loses at most the last 100 ms of lines.
 * One per process: every logger writing to stdout shares its buffer, so lines keep their order.
 */
function batchedStdout(): DestinationStream {
  if (stdout !== undefined) return stdout;
  // The lines are gathered here, not in sonic-boom's own buffer (its minLength), which measures
  // the bytes of its whole buffer again on every line; it still writes each batch, retrying a full pipe.
  const output = pino.destination({ dest: 1, sync: true });
  let lines: string[] = [];
  let length = 0;
  const flush = () => {
    if (lines.length === 0) return;
    const batch = lines.join('');
    lines = [];
    length = 0;
    output.write(batch);
  };
  setInterval(flush, FLUSH_INTERVAL_MS).unref();
  process.once('exit', flush);
  stdout = {
    write(line: string) {
      lines.push(line);
      length += line.length;
      if (length >= BATCH_LENGTH) flush();
    },
  };
  return stdout;
}

/**
 * JSON lines on stdout (batchedStdout) unless a destination is given. A line written while a
 * request is served carries its `requestId`. Authorization material is redacted wherever a caller
 * nests it.
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
  return pino(options, destination ?? batchedStdout());
}

/** The fields of one flat line, named by plain identifiers: strings and numbers. Undefined ones are left out, as pino leaves them out. */
export type LineFields = Readonly<Record<string, string | number | undefined>>;

export type LineWriter = (level: 'info' | 'warn' | 'error', fields: LineFields) => void;

/**
 * Writes flat lines to a logger's destination, at its level and in its format: `level`, `time`,
 * then the fields in order. For the access log's line per request: pino's general path (the request
 * mixin, redaction, serializers) costs measurably more a line than this (docs/performance.md).
 * Callers pass `requestId` themselves.
 */
export function flatLineWriter(logger: Logger): LineWriter {
  const destination = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  if (destination === undefined) throw new Error('flatLineWriter needs a pino logger');
  return function writeLine(level, fields) {
    if (!logger.isLevelEnabled(level)) return;
    let line = `{"level":"${level}","time":${Date.now()}`;
    for (const name in fields) {
      const value = fields[name];
      if (value !== undefined) line += `,"${name}":${JSON.stringify(value)}`;
    }
    destination.write(`${line}}\n`);
  };
}
