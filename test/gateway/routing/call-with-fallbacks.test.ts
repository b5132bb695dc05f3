import { expect } from 'chai';
import type { RetrySettings } from '../../../gateway/config.ts';
import { BadRequestError, RateLimitError, UpstreamError } from '../../../gateway/openai/errors.ts';
import type { Provider } from '../../../gateway/providers/provider.ts';
import { callWithFallbacks } from '../../../gateway/routing/call-with-fallbacks.ts';
import type { Route, Target } from '../../../gateway/routing/model-router.ts';

const settings: RetrySettings = { retries: 2, baseDelayMs: 1, maxWaitMs: 50, budgetMs: 10_000 };
const provider = (name: string) => ({ name, displayName: name }) as Provider;
const primary: Target = { provider: provider('gigachat'), model: 'GigaChat-2-Max' };
const fallback: Target = { provider: provider('gemini'), model: 'gemini-2.5-pro' };
const alias: Route = { alias: 'smart', targets: [primary, fallback] };

/** An attempt function that fails with the given errors in turn, then answers with the target's model. */
function scripted(failures: unknown[]) {
  const calls: string[] = [];
  const attempt = async (target: Target) => {
    calls.push(target.model);
    const failure = failures.shift();
    if (failure !== undefined) throw failure;
    return target.model;
  };
  return { calls, attempt };
}

describe('callWithFallbacks', () => {
  const signal = new AbortController().signal;

  it('retries the same model on 5xx, then answers', async () => {
    const { calls, attempt } = scripted([new UpstreamError('HTTP 500'), new UpstreamError('HTTP 502')]);
    const answered = await callWithFallbacks({ targets: [primary] }, settings, signal, attempt);
    expect(answered.value).to.equal('GigaChat-2-Max');
    expect(calls).to.deep.equal(['GigaChat-2-Max', 'GigaChat-2-Max', 'GigaChat-2-Max']);
  });

  it('gives up after the configured retries with the last failure', async () => {
    const last = new UpstreamError('third');
    const { calls, attempt } = scripted([new UpstreamError('1'), new UpstreamError('2'), last]);
    const failure = await callWithFallbacks({ targets: [primary] }, settings, signal, attempt).catch((e) => e);
    expect(failure).to.equal(last);
    expect(calls).to.have.length(3);
  });

  it('moves an alias to its fallback once the primary is out of retries, and says so', async () => {
    const fellBack: string[] = [];
    const { calls, attempt } = scripted([new UpstreamError('1'), new UpstreamError('2'), new UpstreamError('3')]);
    const answered = await callWithFallbacks(alias, settings, signal, attempt, {
      fallingBack: (name, from, to) => fellBack.push(`${name}: ${from.model} → ${to.model}`),
    });
    expect(answered.target).to.equal(fallback);
    expect(calls).to.deep.equal(['GigaChat-2-Max', 'GigaChat-2-Max', 'GigaChat-2-Max', 'gemini-2.5-pro']);
    expect(fellBack).to.deep.equal(['smart: GigaChat-2-Max → gemini-2.5-pro']);
  });

  it('does not sleep on a Retry-After beyond the bound: the fallback goes at once, or the client gets the 429', async () => {
    const tooLong = new RateLimitError('later', { headers: { 'retry-after': '60' } });
    const viaAlias = scripted([tooLong]);
    expect((await callWithFallbacks(alias, settings, signal, viaAlias.attempt)).value).to.equal('gemini-2.5-pro');
    expect(viaAlias.calls).to.deep.equal(['GigaChat-2-Max', 'gemini-2.5-pro']);

    const direct = scripted([tooLong]);
    expect(await callWithFallbacks({ targets: [primary] }, settings, signal, direct.attempt).catch((e) => e)).to.equal(
      tooLong,
    );
    expect(direct.calls).to.have.length(1);
  });

  it('neither retries nor falls back on a client error', async () => {
    const bad = new BadRequestError('bad', { param: 'messages' });
    const { calls, attempt } = scripted([bad]);
    expect(await callWithFallbacks(alias, settings, signal, attempt).catch((e) => e)).to.equal(bad);
    expect(calls).to.deep.equal(['GigaChat-2-Max']);
  });

  it('starts no attempt after the budget: one try, no fallback', async () => {
    const { calls, attempt } = scripted([new UpstreamError('1')]);
    const noBudget = { ...settings, budgetMs: 0 };
    expect(await callWithFallbacks(alias, noBudget, signal, attempt).catch((e) => e)).to.be.instanceOf(UpstreamError);
    expect(calls).to.deep.equal(['GigaChat-2-Max']);
  });

  it('stops waiting at once when the client leaves', async () => {
    const controller = new AbortController();
    const { calls, attempt } = scripted([new RateLimitError('x', { headers: { 'retry-after': '0.05' } })]);
    const pending = callWithFallbacks(
      { targets: [primary] },
      { ...settings, maxWaitMs: 60_000 },
      controller.signal,
      attempt,
    );
    await new Promise(setImmediate); // the first attempt failed, the retry waits
    controller.abort();
    const failure = await pending.catch((e) => e);
    expect(failure).to.have.property('name', 'AbortError');
    expect(calls).to.have.length(1);
  });
});
