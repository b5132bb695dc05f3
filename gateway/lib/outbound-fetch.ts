import { Agent, type Dispatcher, EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import type { ProxySettings } from '../config.ts';

/** `fetch` as the Web API declares it (what SDKs such as @google/genai accept). */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A `fetch` with its own keep-alive pool that goes through the configured proxy, honouring
 * NO_PROXY. Only the settings passed in count: undici's own fallback to process.env is shut off,
 * so one provider can use a proxy while another stays direct.
 */
export function createOutboundFetch(proxy: ProxySettings): Fetch {
  const dispatcher: Dispatcher =
    proxy.httpsProxy === undefined && proxy.httpProxy === undefined
      ? new Agent({ keepAliveTimeout: 30_000 })
      : new EnvHttpProxyAgent({
          httpProxy: proxy.httpProxy ?? '',
          httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? '',
          noProxy: proxy.noProxy ?? '',
          keepAliveTimeout: 30_000,
        });
  return (input, init) =>
    undiciFetch(input as never, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}
