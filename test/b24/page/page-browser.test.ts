import { expect } from 'chai';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { launchChromium } from '../../helpers/b24/browser.ts';
import type { FakePortal } from '../../helpers/b24/fake-portal.ts';
import { B24Harness } from '../../helpers/b24/harness.ts';

describe('Bitrix24 app: the page in headless Chromium, inside a fake portal frame', function () {
  this.timeout(60_000);
  let harness: B24Harness;
  let browser: { context: BrowserContext; close(): Promise<void> };

  before(async () => {
    harness = await B24Harness.start();
    browser = await launchChromium(harness.ca.serverCert);
  });
  after(async () => {
    await browser?.close();
    await harness?.close();
  });

  /** Opens the fake portal page that frames the app, collecting console errors and page errors. */
  async function openInPortal(
    portal: FakePortal,
    query: Record<string, string>,
  ): Promise<{ page: Page; frame: Frame; problems: string[] }> {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('requestfailed', (request) =>
      problems.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`),
    );
    await page.goto(`${portal.origin}/fake-parent?${new URLSearchParams(query)}`);
    const frame = await (await page.waitForSelector('iframe#app')).contentFrame();
    if (frame === null) throw new Error('no app frame');
    await frame.waitForSelector('main.app');
    return { page, frame, problems };
  }

  it('shows the engines, their models and usage, connects to the frame API, and logs no console error', async () => {
    const portal = await harness.installedPortal();
    const tokens = harness.oauth.issue(portal, 1);
    const { page, frame, problems } = await openInPortal(portal, { auth: tokens.access_token, lang: 'en' });
    await frame.waitForFunction(() => (globalThis as any).document.documentElement.dataset.frame === 'connected');

    expect(await frame.textContent('h1')).to.equal('GigaChat and Gemini for CoPilot');
    const rows = await frame.$$eval('#engines tbody tr', (trs) =>
      trs.map((tr) => [...tr.children].map((td) => td.textContent)),
    );
    expect(rows).to.deep.equal([
      ['GigaChat-2-Max (Sber GigaChat via gigagate)', 'GigaChat-2-Max', '0', '0'],
      ['GigaChat-2 (Sber GigaChat via gigagate)', 'GigaChat-2', '0', '0'],
    ]);
    expect(await frame.isEnabled('#reregister')).to.equal(true);
    expect(await frame.isEnabled('#rotate')).to.equal(true);
    const commands = await page.evaluate(() => (globalThis as any).__commands as string[]);
    expect(commands).to.include('getInitData').and.include('resizeWindow');

    // Try a prompt: the answer appears and the usage column counts it.
    await frame.selectOption('#try-engine', 'gigagate_GigaChat-2');
    await frame.fill('#try-prompt', 'Say hello');
    await frame.click('#try-send');
    await frame.waitForSelector('#try-answer:not(.hidden)');
    expect(await frame.textContent('#try-answer-text')).to.equal('Hello.');
    await frame.waitForFunction(
      () =>
        (globalThis as any).document.querySelector('#engines tr[data-code="gigagate_GigaChat-2"] td:nth-child(3)')
          ?.textContent === '1',
    );

    // Re-register from the page.
    await frame.click('#reregister');
    await frame.waitForFunction(
      () => (globalThis as any).document.getElementById('reregister-status')?.textContent === 'Done.',
    );
    expect(await frame.getAttribute('#reregister-status', 'class')).not.to.contain('error');

    // New engine addresses: the engines move, the old address stops answering.
    const old = harness.engineUrl(portal);
    await frame.click('#rotate');
    await frame.waitForFunction(
      () =>
        (globalThis as any).document.getElementById('rotate-status')?.textContent ===
        'Done. The old engine addresses no longer work.',
    );
    expect(await frame.getAttribute('#rotate-status', 'class')).not.to.contain('error');
    expect(harness.engineUrl(portal)).not.to.equal(old);
    expect((await fetch(old)).status).to.equal(403);
    expect(await frame.$$eval('#engines tbody tr', (trs) => trs.length)).to.equal(2);

    expect(problems).to.deep.equal([]);
    await page.close();
  });

  it('speaks Russian with LANG=ru', async () => {
    const portal = await harness.installedPortal();
    const { page, frame, problems } = await openInPortal(portal, {
      auth: harness.oauth.issue(portal, 1).access_token,
      lang: 'ru',
    });
    expect(await frame.textContent('h1')).to.equal('GigaChat и Gemini для CoPilot');
    expect(await frame.textContent('#reregister')).to.equal('Зарегистрировать модели заново');
    expect(await frame.textContent('#rotate')).to.equal('Новые адреса моделей');
    expect(await frame.getAttribute('html', 'lang')).to.equal('ru');
    expect(problems).to.deep.equal([]);
    await page.close();
  });

  it('the install page registers on the server and its script calls installFinish', async () => {
    const portal = await harness.newPortal();
    const tokens = harness.oauth.issue(portal, 1);
    const { page, frame, problems } = await openInPortal(portal, {
      path: 'install',
      install: '1',
      auth: tokens.access_token,
      refresh: tokens.refresh_token,
      server: tokens.server_endpoint,
      lang: 'ru',
    });
    await frame.waitForFunction(() => (globalThis as any).document.documentElement.dataset.installFinished === 'yes');
    expect(await frame.textContent('h1')).to.equal('Приложение установлено');
    expect(await page.evaluate(() => (globalThis as any).__commands as string[])).to.include('setInstallFinish');
    expect(portal.engines).to.have.length(2);
    expect(problems).to.deep.equal([]);
    await page.close();
  });

  it('refuses to be framed by another portal (frame-ancestors)', async () => {
    const portal = await harness.installedPortal();
    const other = await harness.newPortal();
    const page = await browser.context.newPage();
    const refused = page.waitForEvent('console', {
      predicate: (message) => message.type() === 'error' && message.text().includes('frame-ancestors'),
    });
    // Chromium replaces a refused frame's document with its own error page.
    const replaced = page.waitForEvent('framenavigated', {
      predicate: (frame) => frame !== page.mainFrame() && frame.url().startsWith('chrome-error://'),
    });
    const tokens = harness.oauth.issue(portal, 1);
    await page.goto(
      `${other.origin}/fake-parent?${new URLSearchParams({ auth: tokens.access_token, member: portal.memberId })}`,
    );
    await refused;
    const frame = await replaced;
    await frame.waitForLoadState();
    expect(await frame.$('main.app')).to.equal(null);
    await page.close();
  });
});
