import { B24Hook, SdkError } from '@bitrix24/b24jssdk';
import { readClientKeys, readEnv } from '../gateway/lib/env.ts';
import { SealedSecretError } from '../gateway/lib/secrets/secret-box.ts';
import { loadSecretKeys, SecretKeyError } from '../gateway/lib/secrets/secret-keys.ts';
import { ConfigError, type Env, loadB24Config } from './config.ts';
import { createGatewayClient } from './gateway-client.ts';
import { RestError } from './install/rest-client.ts';
import { PortalStore } from './portal/portal-store.ts';
import { loadSigningKey } from './portal/signing-key.ts';
import { openB24Store } from './store.ts';
import { hideKey, listWithWebhook, registerWithWebhook, unregisterWithWebhook } from './webhook/webhook.ts';

const USAGE = 'usage: npm run b24 -- engines register|list|unregister --webhook <incoming webhook URL>';

/** A problem worth one line to the user, and an exit code. */
class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

interface Command {
  action: 'register' | 'list' | 'unregister';
  webhook: string;
}

function parseArguments(args: readonly string[], env: Env): Command {
  const [group, action, ...rest] = args;
  let webhook = readEnv(env, 'B24_WEBHOOK_URL');
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index] as string;
    if (arg === '--webhook') webhook = rest[++index];
    else if (arg.startsWith('--webhook=')) webhook = arg.slice('--webhook='.length);
    else throw new CliError(`unknown argument "${arg}"\n${USAGE}`, 2);
  }
  if (group !== 'engines' || (action !== 'register' && action !== 'list' && action !== 'unregister')) {
    throw new CliError(USAGE, 2);
  }
  if (webhook === undefined || webhook === '') throw new CliError(`--webhook is required\n${USAGE}`, 2);
  return { action, webhook };
}

/**
 * Runs one command; returns the lines to print, and hands warnings to `warn`. The webhook URL (a
 * secret) is never printed.
 */
export async function runCli(
  args: readonly string[],
  env: Env,
  warn: (line: string) => void = () => {},
): Promise<string[]> {
  const command = parseArguments(args, env);
  let hook: B24Hook;
  try {
    hook = B24Hook.fromWebhookUrl(command.webhook);
  } catch (error) {
    throw new CliError(`--webhook: ${(error as Error).message}`);
  }
  hook.offClientSideWarning();
  if (command.action === 'list') {
    const engines = await listWithWebhook(hook);
    if (engines.length === 0) return ['no engines on this portal'];
    return engines.map(
      (engine) =>
        `${engine.code}\t${engine.name}\t${engine.category}\t${engine.app_code ?? 'webhook'}\t${hideKey(engine.completions_url)}`,
    );
  }
  const config = loadB24Config(env);
  if (config === undefined) throw new CliError('PUBLIC_URL is not set: engine URLs are built from it');
  // The server's keys, loaded as the server loads them: the CLI reads and writes the same records.
  const secrets = loadSecretKeys(readEnv(env, 'GATEWAY_SECRET_KEY'), config.store);
  for (const notice of secrets.notices) if (notice.level === 'warn') warn(notice.message);
  const store = await openB24Store(config.store);
  try {
    const portals = new PortalStore(store, secrets.box);
    if (command.action === 'unregister') {
      const removed = await unregisterWithWebhook({ portals }, hook);
      return [removed.length === 0 ? 'no engines of ours to remove' : `removed: ${removed.join(', ')}`];
    }
    // Without B24_GATEWAY_URL, the gateway on this machine, asked as the server asks it: with its first client key.
    const gatewayUrl = config.gatewayUrl?.toString() ?? `http://127.0.0.1:${readEnv(env, 'PORT')}`;
    const gateway = createGatewayClient(gatewayUrl, config.gatewayApiKey ?? readClientKeys(env)[0]?.key);
    const sync = await registerWithWebhook(
      { config, portals, signingKey: await loadSigningKey(store, secrets.box, config.signingKey), gateway },
      hook,
    );
    return [
      ...sync.engines.map((engine) => `${engine.code}\t${engine.name}`),
      `registered: ${sync.registered.length}, unchanged: ${sync.kept.length}, removed: ${sync.unregistered.length}`,
    ];
  } finally {
    await store.disconnect();
  }
}

/** One line for any failure; never a stack trace, never the webhook URL. */
function describeFailure(error: unknown): string {
  const ours = [CliError, ConfigError, SecretKeyError, SealedSecretError];
  if (ours.some((kind) => error instanceof kind)) return (error as Error).message;
  if (error instanceof RestError) return `Bitrix24 refused ${error.method}: ${error.code}`;
  if (error instanceof SdkError) return `Bitrix24: ${error.code}`;
  return (error as Error).message ?? String(error);
}

async function main(): Promise<void> {
  try {
    const warn = (line: string) => process.stderr.write(`b24: warning: ${line}\n`);
    for (const line of await runCli(process.argv.slice(2), process.env, warn)) process.stdout.write(`${line}\n`);
  } catch (error) {
    process.stderr.write(`b24: ${describeFailure(error)}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}

if (import.meta.main) await main();
