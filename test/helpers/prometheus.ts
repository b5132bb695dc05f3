/** One sample of the Prometheus text exposition format: `name{label="value",…} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

/** Parses an exposition; throws on a line that is neither a comment nor a well-formed sample. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample: ${line}`);
    const [, name, labelText = '', value] = match;
    samples.push({ name: name as string, labels: parseLabels(labelText, line), value: parseValue(value as string) });
  }
  return samples;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (match === null) throw new Error(`bad labels in: ${line}`);
    labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, (_all, char: string) =>
      char === 'n' ? '\n' : char,
    );
  }
  return labels;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (Number.isNaN(value) && text !== 'NaN' && text !== 'Nan') throw new Error(`bad sample value: ${text}`);
  return value;
}

/** The samples of one metric whose labels include every given label. */
export function samplesOf(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}

/**
 * The value of the one series with exactly these labels, or undefined when there is none.
 * Exact, so a series with an extra label (say, a raw path) does not pass for the expected one.
 */
export function seriesValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.keys(labels).length;
  const found = samplesOf(samples, name, labels).filter((sample) => Object.keys(sample.labels).length === wanted);
  if (found.length > 1) throw new Error(`${found.length} series of ${name} with ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Scrapes a gateway's `GET /metrics`. */
export async function scrape(
  baseUrl: string,
): Promise<{ status: number; contentType: string; samples: Sample[]; text: string }> {
  const response = await fetch(`${baseUrl}/metrics`);
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    samples: response.ok ? parsePrometheus(text) : [],
    text,
  };
}
