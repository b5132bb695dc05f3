import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { loadB24Config } from '../../b24-app/config.ts';
import { isPortalCallbackUrl } from '../../b24-app/engine/callbacks.ts';
import { normaliseHost, tokenEndpoint, trustedServerEndpoint } from '../../b24-app/install/oauth.ts';
import { createPageSession, readPageSession } from '../../b24-app/page/session.ts';
import {
  claimedMemberId,
  newKeyNonce,
  portalKeyFor,
  portalKeyMatches,
  safeEqual,
} from '../../b24-app/portal/portal-key.ts';

const key = randomBytes(32);

describe('Bitrix24 app security checks', () => {
  it('portal keys: member_id plus an HMAC of it and the portal’s nonce; a forged, moved or old MAC gives nothing', () => {
    const nonce = newKeyNonce();
    const portalKey = portalKeyFor(key, 'a1b2c3', nonce);
    expect(portalKey).to.match(/^a1b2c3\.[\w-]{32}$/);
    expect(claimedMemberId(portalKey)).to.equal('a1b2c3');
    expect(portalKeyMatches(key, portalKey, 'a1b2c3', nonce)).to.equal(true);
    const mac = portalKey.split('.')[1] as string;
    expect(portalKeyMatches(key, `d4e5f6.${mac}`, 'd4e5f6', nonce)).to.equal(false);
    expect(portalKeyMatches(key, `a1b2c3.${mac.slice(0, -1)}`, 'a1b2c3', nonce)).to.equal(false);
    expect(portalKeyMatches(randomBytes(32), portalKey, 'a1b2c3', nonce)).to.equal(false);
    // A new nonce (re-install, rotation) makes another key, and the old one stops matching.
    const rotated = newKeyNonce();
    expect(rotated).not.to.equal(nonce);
    expect(portalKeyFor(key, 'a1b2c3', rotated)).not.to.equal(portalKey);
    expect(portalKeyMatches(key, portalKey, 'a1b2c3', rotated)).to.equal(false);
    // A record from before the nonce keeps the old formula, HMAC of member_id alone, until its engines are synced.
    const legacy = portalKeyFor(key, 'a1b2c3', undefined);
    expect(legacy).not.to.equal(portalKey);
    expect(portalKeyMatches(key, legacy, 'a1b2c3', undefined)).to.equal(true);
    expect(portalKeyMatches(key, legacy, 'a1b2c3', nonce)).to.equal(false);
    expect(claimedMemberId('no-dot')).to.equal(undefined);
    expect(claimedMemberId('.no-member')).to.equal(undefined);
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

  it('callbacks go only to Bitrix24’s callback actions, over https, on the portal’s own host and port', () => {
    const domain = 'acme.bitrix24.ru';
    const base = `https://${domain}/bitrix/services/main/ajax.php?action=ai.controller.integration.thirdparty`;
    const success = `${base}.callbackSuccess&hash=1a2b`;
    const error = `${base}.callbackError&hash=1a2b`;
    expect(isPortalCallbackUrl(success, domain, 'success')).to.equal(true);
    expect(isPortalCallbackUrl(error, domain, 'error')).to.equal(true);
    const refused: Array<[string, 'success' | 'error']> = [
      [error, 'success'], // the actions swapped
      [success, 'error'],
      [success.replace('https:', 'http:'), 'success'],
      [success.replace(domain, `${domain}.evil.test`), 'success'],
      [success.replace(domain, `${domain}:8443`), 'success'],
      [success.replace(domain, `user:pw@${domain}`), 'success'],
      [success.replace('/bitrix/services/main/ajax.php', '/rest/1/whatever/im.message.add'), 'success'],
      [success.replace('ajax.php', 'ajax.php/extra'), 'success'],
      [success.replace('callbackSuccess', 'callbackSuccessX'), 'success'],
      [`${success}&action=crm.lead.add`, 'success'],
      [
        `https://${domain}/bitrix/services/main/ajax.php?action=ai.controller.integration.thirdparty.callbackSuccess`,
        'success',
      ],
      [`${success}#fragment`, 'success'],
      ['https://169.254.169.254/latest', 'success'],
      ['not a url', 'success'],
    ];
    for (const [url, kind] of refused) expect(isPortalCallbackUrl(url, domain, kind), url).to.equal(false);
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
