import { Agent, type Dispatcher, EnvHttpProxyAgent } from 'undici';
import type { ProxySettings } from '../config.ts';

/**
 * A keep-alive pool that goes through the configured proxy, honouring NO_PROXY, or straight out
 * when none is set. Only the settings passed in count: undici's own fallback to process.env is
 * shut off, so one provider can use a proxy while another stays direct.
 */
export function createProxyAgent(proxy: ProxySettings): Dispatcher {
  if (proxy.httpsProxy === undefined && proxy.httpProxy === undefined) return new Agent({ keepAliveTimeout: 30_000 });
  return new EnvHttpProxyAgent({
    httpProxy: proxy.httpProxy ?? '',
    httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? '',
    noProxy: proxy.noProxy ?? '',
    keepAliveTimeout: 30_000,
  });
}
