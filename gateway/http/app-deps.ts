import type { Middleware } from 'koa';
import type { KeyStore } from '../clients/key-store.ts';
import type { ClientPolicy } from '../clients/policy.ts';
import type { Config } from '../config.ts';
import type { GatewayFiles } from '../files/gateway-files.ts';
import type { Logger } from '../lib/logger.ts';
import type { GatewayMetrics } from '../lib/metrics.ts';
import type { Store } from '../lib/store.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { BackgroundResponses } from '../responses/background.ts';
import type { ResponseStore } from '../responses/response-store.ts';
import type { Accounts } from '../routing/accounts.ts';
import type { ModelRouter } from '../routing/model-router.ts';
import type { Dispatcher } from './dispatch.ts';
import type { ShutdownState } from './drain.ts';
import type { StartingPart } from './health.ts';
import type { ApiKeyCheck } from './middleware/auth.ts';

/** What the gateway's HTTP app is made of (main.ts builds it; tests build their own). */
export interface AppDeps {
  config: Config;
  logger: Logger;
  store: Store;
  registry: ProviderRegistry;
  /** Model names and aliases → providers (wraps the registry). */
  models: ModelRouter;
  /** The accounts calls go out with (the operator's credentials, keys' own); by default each registered provider alone. */
  accounts?: Accounts;
  /** Client keys made at run time beside the fixed ones (`/admin/keys`); without it, only config.clients. */
  keyStore?: KeyStore;
  /** Each client key's allowed models, limits and usage. */
  policy: ClientPolicy;
  metrics: GatewayMetrics;
  /** The files of POST /v1/files; without it those routes answer 404 and file_id parts are not found. */
  files?: GatewayFiles;
  /** Stored and background responses (POST /v1/responses); without them those routes answer 404. */
  responses?: { store: ResponseStore; background: BackgroundResponses };
  /** The dispatcher every model-bound route shares; createApp makes one when it is not given. */
  dispatcher?: Dispatcher;
  /** Set once a shutdown begins (main.ts); `/readyz` then answers 503. */
  shutdown?: ShutdownState;
  /** Another app served on the same server (the Bitrix24 app, composed by main.ts). */
  mounted?: MountedApp;
}

/** An app whose routes follow the gateway's, and whose start `/readyz` waits for. */
export interface MountedApp extends StartingPart {
  middleware: Middleware;
}

/** AppDeps plus the parts createApp builds once from them, which the chat entrance and the router share. */
export interface RouteDeps extends AppDeps {
  accounts: Accounts;
  dispatcher: Dispatcher;
  checkApiKey: ApiKeyCheck;
}
