import type { Metric } from 'prom-client';
import { childMap } from './child-map.ts';

/** A label's value; `undefined` leaves the label off the series. */
export type LabelValue = string | number | undefined;

type Level<T> = Map<LabelValue, T>;

/** One label set's values, in the order of the metric's label names. */
type LabelTuple = readonly [LabelValue?, LabelValue?, LabelValue?, LabelValue?, LabelValue?];

interface Exposed {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * The series of one metric, found by up to five label values through nested Maps. prom-client's
 * own `inc`/`observe` hash and validate the label object on every call (its `labels()` children
 * only bind it), many times the cost of a Map lookup here (docs/performance.md), and the access
 * log calls this on every request. Its Registry still formats, serves and merges these metrics.
 */
abstract class LabelledMetric<Series> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum';
  readonly #labelNames: readonly string[];
  readonly #root: Level<Level<Level<Level<Level<Series>>>>> = new Map();
  #all: { labels: Record<string, string>; series: Series }[] = [];

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.#labelNames = labelNames;
  }

  abstract readonly type: 'counter' | 'histogram';
  protected abstract createSeries(): Series;
  protected abstract expose(labels: Record<string, string>, series: Series, into: Exposed[]): void;

  /** The series for these label values, created at its first use. */
  protected find(a?: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue, e?: LabelValue): Series {
    const leaf = childMap(childMap(childMap(childMap(this.#root, a), b), c), d);
    return leaf.get(e) ?? this.#add(leaf, [a, b, c, d, e]);
  }

  #add(leaf: Level<Series>, values: LabelTuple): Series {
    const series = this.createSeries();
    const labels: Record<string, string> = {};
    this.#labelNames.forEach((name, index) => {
      const value = values[index];
      if (value !== undefined) labels[name] = String(value);
    });
    leaf.set(values[4], series);
    this.#all.push({ labels, series });
    return series;
  }

  /** prom-client's Registry reads a metric through this (text and JSON alike). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Exposed[] }> {
    const values: Exposed[] = [];
    for (const { labels, series } of this.#all) this.expose(labels, series, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics() calls this. */
  reset(): void {
    this.#root.clear();
    this.#all = [];
  }

  /** This object in the type prom-client's Registry.registerMetric takes; it reads only the members above. */
  asPromMetric(): Metric {
    return this as unknown as Metric;
  }
}

interface CounterSeries {
  value: number;
}

/** A Prometheus counter with labels, for the hot path. */
export class LabelledCounter extends LabelledMetric<CounterSeries> {
  readonly type = 'counter';

  inc(amount: number, a?: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue, e?: LabelValue): void {
    this.find(a, b, c, d, e).value += amount;
  }

  protected createSeries(): CounterSeries {
    return { value: 0 };
  }

  protected expose(labels: Record<string, string>, series: CounterSeries, into: Exposed[]): void {
    into.push({ labels, value: series.value });
  }
}

interface HistogramSeries {
  count: number;
  sum: number;
  /** Observations per bucket, not cumulative: index i counts values in (bounds[i-1], bounds[i]]; the last, above every bound. */
  buckets: Float64Array;
}

/** A Prometheus histogram with labels, for the hot path. */
export class LabelledHistogram extends LabelledMetric<HistogramSeries> {
  readonly type = 'histogram';
  readonly #bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.#bounds = bounds;
  }

  observe(value: number, a?: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue, e?: LabelValue): void {
    const series = this.find(a, b, c, d, e);
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index++;
    series.count++;
    series.sum += value;
    series.buckets[index] = (series.buckets[index] as number) + 1;
  }

  protected createSeries(): HistogramSeries {
    return { count: 0, sum: 0, buckets: new Float64Array(this.#bounds.length + 1) };
  }

  protected expose(labels: Record<string, string>, series: HistogramSeries, into: Exposed[]): void {
    const bucketName = `${this.name}_bucket`;
    let cumulative = 0;
    this.#bounds.forEach((bound, index) => {
      cumulative += series.buckets[index] as number;
      into.push({ metricName: bucketName, labels: { ...labels, le: bound }, value: cumulative });
    });
    into.push({ metricName: bucketName, labels: { ...labels, le: '+Inf' }, value: series.count });
    into.push({ metricName: `${this.name}_sum`, labels, value: series.sum });
    into.push({ metricName: `${this.name}_count`, labels, value: series.count });
  }
}
