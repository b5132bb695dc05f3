import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { isPortalCallbackUrl } from '../../b24-app/callbacks.ts';
import { loadB24Config } from '../../b24-app/config.ts';
import { normaliseHost, tokenEndpoint, trustedServerEndpoint } from '../../b24-app/oauth.ts';
import { createPageSession, readPageSession } from '../../b24-app/page/session.ts';
import { memberIdFromPortalKey, portalKeyFor, safeEqual } from '../../b24-app/portal-key.ts';

const key = randomBytes(32);

describe('Bitrix24 app security checks', () => {
  it('portal keys: member_id plus an HMAC; a forged or moved MAC gives nothing', () => {
    const portalKey = portalKeyFor(key, 'a1b2c3');
    expect(portalKey).to.match(/^a1b2c3\.[\w-]{32}$/);
    expect(memberIdFromPortalKey(key, portalKey)).to.equal('a1b2c3');
    const mac = portalKey.split('.')[1] as string;
    expect(memberIdFromPortalKey(key, `d4e5f6.${mac}`)).to.equal(undefined);
    expect(memberIdFromPortalKey(key, `a1b2c3.${mac.slice(0, -1)}`)).to.equal(undefined);
    expect(memberIdFromPortalKey(randomBytes(32), portalKey)).to.equal(undefined);
    expect(memberIdFromPortalKey(key, 'no-dot')).to.equal(undefined);
    expect(safeEqual('abc', 'abc')).to.equal(true);
    expect(safeEqual('abc', 'abd')).to.equal(false);
    expect(safeEqual('abc', 'abcd')).to.equal(false);
  });

  it('page sessions: signed, expiring, bound to their content', () => {
    const now = Date.now();
    const token = createPageSession(key, { memberId: 'm1', userId: 5, isAdmin: true }, now);
    expect(readPageSession(key, token, now + 1000)).to.deep.include({ memberId: 'm1', userId: 5, isAdmin: true });
    expect(readPageSession(key, token, now + 61 * 60_000)).to.equal(undefined);
    const [payload, mac] = token.split('.') as [string, string];
    const promoted = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), memberId: 'm2' }),
    ).toString('base64url');
    expect(readPageSession(key, `${promoted}.${mac}`, now)).to.equal(undefined);
    expect(readPageSession(key, 'garbage', now)).to.equal(undefined);
  });

  it('callbacks go only over https to the portal’s own host and port', () => {
    const ok = 'https://acme.bitrix24.ru/bitrix/services/main/ajax.php?hash=1';
    expect(isPortalCallbackUrl(ok, 'acme.bitrix24.ru')).to.equal(true);
    expect(isPortalCallbackUrl(ok.replace('https:', 'http:'), 'acme.bitrix24.ru')).to.equal(false);
    expect(isPortalCallbackUrl('https://acme.bitrix24.ru.evil.test/x', 'acme.bitrix24.ru')).to.equal(false);
    expect(isPortalCallbackUrl('https://acme.bitrix24.ru:8443/x', 'acme.bitrix24.ru')).to.equal(false);
    expect(isPortalCallbackUrl('https://user@acme.bitrix24.ru/x', 'acme.bitrix24.ru')).to.equal(false);
    expect(isPortalCallbackUrl('https://169.254.169.254/latest', 'acme.bitrix24.ru')).to.equal(false);
    expect(isPortalCallbackUrl('not a url', 'acme.bitrix24.ru')).to.equal(false);
  });

  it('refreshes tokens only at B24_OAUTH_URL, oauth.bitrix.info or oauth.bitrix24.tech', () => {
    const config = loadB24Config({ PUBLIC_URL: 'https://gate.example.ru' });
    if (config === undefined) throw new Error('config');
    expect(tokenEndpoint(config, 'https://oauth.bitrix24.tech/rest/').toString()).to.equal(
      'https://oauth.bitrix24.tech/oauth/token/',
    );
    expect(tokenEndpoint(config, 'https://oauth.bitrix.info/rest/').toString()).to.equal(
      'https://oauth.bitrix.info/oauth/token/',
    );
    for (const claimed of [
      'https://oauth.evil.test/rest/',
      'http://oauth.bitrix24.tech/rest/',
      'nonsense',
      undefined,
    ]) {
      expect(tokenEndpoint(config, claimed).toString()).to.equal('https://oauth.bitrix.info/oauth/token/');
    }
    expect(trustedServerEndpoint(config, 'https://oauth.evil.test/rest/')).to.equal('https://oauth.bitrix.info/rest/');
    expect(normaliseHost('Acme.Bitrix24.RU:443')).to.equal('acme.bitrix24.ru');
    expect(normaliseHost('https://acme.bitrix24.ru/')).to.equal('acme.bitrix24.ru');
    expect(normaliseHost('127.0.0.1:8443')).to.equal('127.0.0.1:8443');
  });
});
