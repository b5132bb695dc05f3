import { expect } from 'chai';
import { Registry } from 'prom-client';
import { LabelledCounter, LabelledHistogram } from '../../../gateway/lib/metric-series.ts';
import { parsePrometheus, seriesValue } from '../../helpers/prometheus.ts';

async function exposition(...metrics: (LabelledCounter | LabelledHistogram)[]) {
  const registry = new Registry();
  for (const metric of metrics) registry.registerMetric(metric.asPromMetric());
  return { registry, samples: parsePrometheus(await registry.metrics()) };
}

describe('lib/metric-series: labelled counters and histograms for the hot path', () => {
  it('adds to one series per label set and leaves undefined labels off', async () => {
    const counter = new LabelledCounter('test_total', 'help', ['route', 'status', 'model']);
    counter.inc(1, '/a', 200, 'm');
    counter.inc(2, '/a', 200, 'm');
    counter.inc(1, '/a', 404, undefined);
    const { samples } = await exposition(counter);
    expect(seriesValue(samples, 'test_total', { route: '/a', status: '200', model: 'm' })).to.equal(3);
    expect(seriesValue(samples, 'test_total', { route: '/a', status: '404' })).to.equal(1);
    expect(samples).to.have.length(2);
  });

  it('puts a value equal to a bound in that bound’s bucket (le), above all bounds only in +Inf', async () => {
    const histogram = new LabelledHistogram('test_seconds', 'help', ['provider'], [0.1, 1]);
    for (const value of [0.05, 0.1, 0.5, 1, 7]) histogram.observe(value, 'p');
    const { samples } = await exposition(histogram);
    const bucket = (le: string) => seriesValue(samples, 'test_seconds_bucket', { provider: 'p', le });
    expect([bucket('0.1'), bucket('1'), bucket('+Inf')]).to.deep.equal([2, 4, 5]);
    expect(seriesValue(samples, 'test_seconds_count', { provider: 'p' })).to.equal(5);
    expect(seriesValue(samples, 'test_seconds_sum', { provider: 'p' })).to.be.closeTo(8.65, 1e-9);
  });

  it('serves prom-client’s JSON form and resetMetrics()', async () => {
    const counter = new LabelledCounter('test_total', 'help', ['kind']);
    counter.inc(1, 'x');
    const { registry } = await exposition(counter);
    const [json] = await registry.getMetricsAsJSON();
    expect(json).to.deep.include({
      name: 'test_total',
      type: 'counter',
      values: [{ labels: { kind: 'x' }, value: 1 }],
    });
    registry.resetMetrics();
    counter.inc(1, 'y');
    expect(parsePrometheus(await registry.metrics())).to.deep.equal([
      { name: 'test_total', labels: { kind: 'y' }, value: 1 },
    ]);
  });
});
