import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:os';
import type { DestinationStream } from 'pino';
import type { B24App } from '../b24-app/app.ts';
import { loadB24Config } from '../b24-app/config.ts';
import { createApp, dispatcherOf, type MountedApp } from './app.ts';
import { KeyStore } from './clients/key-store.ts';
import { createClientPolicy } from './clients/policy.ts';
import { type Config, ConfigError, type Env, isLoopback, loadConfig } from './config.ts';
import { GatewayFiles } from './files/gateway-files.ts';
import { createDrain, type ShutdownState } from './http/drain.ts';
import { readEnv, VARIABLES } from './lib/env.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { createMetrics, type GatewayMetrics } from './lib/metrics.ts';
import { SealedSecretError } from './lib/secrets/secret-box.ts';
import { loadSecretKeys, SecretKeyError } from './lib/secrets/secret-keys.ts';
import { compactStore, openStore, type Store, StoreUnavailableError, storeNamespace, tryLease } from './lib/store.ts';
import type { Provider } from './providers/provider.ts';
import { type DisabledProvider, PROVIDERS, ProviderRegistry } from './providers/registry.ts';
import { BackgroundResponses } from './responses/background.ts';
import { ResponseStore } from './responses/response-store.ts';
import { type Accounts, createAccounts } from './routing/accounts.ts';
import { AliasError, ModelRouter } from './routing/model-router.ts';

export interface RunningGateway {
  server: Server;
  config: Config;
  store: Store;
  metrics: GatewayMetrics;
  /** The base URL the gateway listens at, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The graceful shutdown SIGTERM runs (drain.ts): no new connections, answers in flight finish, then the store closes. */
  close(): Promise<void>;
}

/**
 * The registry of the providers the operator has credentials for (registry.ts `PROVIDERS`), each
 * routed through its first account, and why the others are off; says so in the log.
 */
function buildRegistry(accounts: Accounts, config: Config, logger: Logger): ProviderRegistry {
  const providers: Provider[] = [];
  const disabled: DisabledProvider[] = [];
  for (const entry of PROVIDERS) {
    const pool = accounts.pool(entry.name);
    if (pool === undefined) {
      disabled.push({ name: entry.name, displayName: entry.displayName, reason: entry.disabledReason });
      logger.warn(
        `${entry.displayName}: disabled (${entry.disabledReason}); keys with their own credential still use it`,
      );
      continue;
    }
    providers.push(pool.primary.provider);
    const notice = entry.notice?.(config);
    if (notice !== undefined) logger.info(notice);
    const names = pool.members.map((member) => member.name).join(', ');
    logger.info(`${entry.displayName}: enabled (credentials: ${names})`);
  }
  return new ProviderRegistry(providers, disabled);
}

export interface StartOptions {
  /** Where log lines go instead of stdout (tests read them). */
  logDestination?: DestinationStream;
}

/** Starts the gateway from an environment; resolves once it listens and the Bitrix24 app has started. */
export async function startGateway(env: Env, options: StartOptions = {}): Promise<RunningGateway> {
  const config = loadConfig(env);
  const b24Config = loadB24Config(env);
  // Before the store opens: a Redis store without GATEWAY_SECRET_KEY stops here.
  const secrets = loadSecretKeys(readEnv(env, 'GATEWAY_SECRET_KEY'), config.store);
  const logger = createLogger(config.logLevel, options.logDestination);
  for (const notice of secrets.notices) logger[notice.level](notice.message);

  const store = await openStore(config.store);
  const metrics = createMetrics();
  const accounts = createAccounts({ config, store, box: secrets.box, logger, metrics });
  const registry = buildRegistry(accounts, config, logger);
  let models: ModelRouter;
  try {
    models = new ModelRouter(registry, config.aliases);
  } catch (error) {
    await accounts.close();
    await store.disconnect();
    throw error instanceof AliasError ? new ConfigError('GATEWAY_CONFIG', error.message) : error;
  }
  const keyStore = new KeyStore({
    store,
    box: secrets.box,
    logger,
    fixed: config.clients,
    mayBeOpen: config.adminKey === undefined && isLoopback(config.host),
  });
  try {
    await keyStore.start();
  } catch (error) {
    await accounts.close();
    await store.disconnect();
    throw error;
  }
  const policy = createClientPolicy({ config, store, logger, clients: keyStore.directory });
  let files: GatewayFiles;
  try {
    files = new GatewayFiles({ dir: config.filesDir, store, logger });
  } catch (error) {
    keyStore.close();
    await policy.close();
    await accounts.close();
    await store.disconnect();
    throw new ConfigError('FILES_DIR', `cannot create ${config.filesDir} (${(error as Error).message})`);
  }
  files.start();
  if (config.store.kind === 'redis' && readEnv(env, 'FILES_DIR') === VARIABLES.FILES_DIR.default) {
    logger.warn(
      'FILES_DIR is the default data/files: with several instances on Redis, point it at a folder they all share',
    );
  }
  // The Bitrix24 app asks this gateway through its URL, which with PORT=0 is known only once it listens.
  let url: string | undefined;
  const gatewayUrl = () => {
    if (url === undefined) throw new Error('the gateway has no URL before it listens');
    return url;
  };
  let b24: B24App | undefined;
  if (b24Config === undefined) logger.info('Bitrix24 app: disabled (PUBLIC_URL is not set)');
  else {
    // Loaded only when enabled: an API-only gateway never needs the app's SDKs in memory.
    // Created before the server listens, so its routes answer from the first connection on.
    const { createB24App } = await import('../b24-app/app.ts');
    // The app's namespace of the one store connection, which closes with the gateway's.
    const b24Store = storeNamespace(store, 'b24', { throwOnErrors: true });
    try {
      b24 = await createB24App({
        config: b24Config,
        logger,
        secrets: secrets.box,
        store: {
          keyv: b24Store,
          lease: (name, ttlMs) => tryLease(b24Store, name, ttlMs),
          compact: () => compactStore(store),
        },
        localGatewayUrl: gatewayUrl,
        localGatewayApiKey: config.apiKeys[0]?.key,
        metricsRegistry: metrics.registry,
      });
    } catch (error) {
      keyStore.close();
      await policy.close();
      await accounts.close();
      await store.disconnect();
      throw error;
    }
  }
  const mounted: MountedApp | undefined =
    b24 === undefined
      ? undefined
      : { name: 'b24', displayName: 'the Bitrix24 app', middleware: b24.middleware, state: b24.state };
  const shutdown: ShutdownState = { draining: false };
  if (keyStore.directory.open) {
    logger.warn(`GATEWAY_API_KEYS is empty: the API is open to anyone who can reach ${config.host}`);
  }
  const parts = {
    config,
    logger,
    store,
    registry,
    models,
    accounts,
    policy,
    keyStore,
    metrics,
    files,
    mounted,
    shutdown,
  };
  const dispatcher = dispatcherOf(parts);
  const responses = new ResponseStore({ store, retentionMs: config.responsesRetentionMs, logger });
  const background = new BackgroundResponses({
    responses,
    store,
    dispatcher,
    clientNamed: (name) => keyStore.directory.byName(name),
    logger,
  });
  const app = createApp({ ...parts, dispatcher, responses: { store: responses, background } });
  const server = createServer(app);
  const drain = createDrain(server, shutdown, { timeoutMs: config.shutdownTimeoutMs, logger });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.port, host: config.host, backlog: config.listenBacklog }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  url = `http://${host}:${port}`;
  logger.info(`listening on ${url}`);
  const gateway: RunningGateway = {
    server,
    config,
    store,
    metrics,
    url,
    async close() {
      const drained = drain.drain();
      // Running background responses get the drain's time to finish; queued ones wait for the next start.
      // The Bitrix24 worker's own calls to this server would hold the drain until they end: they are
      // aborted instead, and their jobs stay in the store for the next start.
      await Promise.all([background.stop(config.shutdownTimeoutMs), b24?.stop()]);
      await drained;
      // Everything below runs once no request is left.
      await b24?.close();
      keyStore.close();
      files.close();
      responses.close();
      await policy.close();
      await accounts.close();
      await store.disconnect();
    },
  };
  // The jobs a previous process accepted resume once the gateway they call answers; `/readyz` waits for it.
  try {
    responses.start();
    await background.resume();
    await b24?.start();
  } catch (error) {
    await gateway.close();
    throw error;
  }
  return gateway;
}

async function main(): Promise<void> {
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(process.env);
  } catch (error) {
    // One line naming the variable; no stack trace for a configuration mistake.
    const configuration = error instanceof ConfigError || error instanceof SecretKeyError;
    const message = configuration
      ? `configuration error: ${error.message}`
      : error instanceof StoreUnavailableError || error instanceof SealedSecretError
        ? error.message
        : String(error);
    process.stderr.write(`gateway: ${message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`gateway: ${signal} again: exiting without waiting\n`);
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`gateway: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.main) await main();
