/**
 * Now, in µs since the epoch, on the clock all processes of the machine share, to a fraction of a
 * millisecond: the slow streams' mock stamps each event with it and the client reads it back
 * (upstream-mock.ts, slow-streams.ts).
 */
export const nowMicros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

/** A stamp as the mock writes it into an event's text: `~T<µs since the epoch>~`. */
export const STAMP_PATTERN = /~T(\d+)~/g;
