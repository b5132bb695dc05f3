import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

// The import directions: providers never import the HTTP layer, Koa or each other;
// gateway/openai and config.ts (with config-file.ts) import nothing internal; b24-app reaches the gateway only over HTTP.
// The one shared code is gateway/lib/secrets (the key that seals secrets at rest, which the gateway,
// the Bitrix24 app and its CLI must load alike): it imports only Node's built-ins, so it brings no
// gateway code along into b24-app.
// Likewise gateway/lib/env.ts, the declared environment variables both apps read: Node's built-ins only.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface ImportEdge {
  from: string;
  specifier: string;
  /** Repository-relative path for relative imports, undefined for packages. */
  target: string | undefined;
  typeOnly: boolean;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string, source: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    const target = specifier.startsWith('.') ? normalize(join(dirname(file), specifier)) : undefined;
    edges.push({ from: file, specifier, target, typeOnly });
  };
  for (const match of source.matchAll(IMPORT)) add(match[3] as string, match[2] !== undefined);
  for (const match of source.matchAll(DYNAMIC)) add(match[1] as string, false);
  return edges;
}

/** The declared environment variables: a leaf both apps import. */
const ENV_MODULE = 'gateway/lib/env.ts';

const providerOf = (path: string) => /^gateway\/providers\/([^/]+)\//.exec(path)?.[1];

/** Every import that breaks a direction, as readable lines. */
function violations(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, source] of files) {
    for (const edge of importsOf(file, source)) {
      const target = edge.target ?? '';
      const internal = edge.target !== undefined;
      const say = (rule: string) => problems.push(`${file} imports ${edge.specifier}: ${rule}`);
      if (file.startsWith('gateway/openai/') && internal && !target.startsWith('gateway/openai/')) {
        say('gateway/openai imports nothing internal');
      }
      // The configuration is config.ts and the GATEWAY_CONFIG file's reader beside it.
      const configuration = ['gateway/config.ts', 'gateway/config-file.ts'];
      if (configuration.includes(file) && internal && !configuration.includes(target) && target !== ENV_MODULE) {
        say('config.ts imports nothing internal but the declared variables');
      }
      if (file === ENV_MODULE && !edge.specifier.startsWith('node:')) {
        say("gateway/lib/env.ts imports only Node's built-ins");
      }
      if (
        file.startsWith('gateway/lib/') &&
        internal &&
        !target.startsWith('gateway/lib/') &&
        !(edge.typeOnly && target === 'gateway/config.ts')
      ) {
        say('gateway/lib imports only itself (and config types)');
      }
      if (file.startsWith('gateway/providers/')) {
        if (target.startsWith('gateway/http/') || target === 'gateway/app.ts' || target === 'gateway/main.ts') {
          say('providers never import the HTTP layer');
        }
        if (edge.specifier === 'koa' || edge.specifier.startsWith('@koa/')) say('providers never import Koa');
        const own = providerOf(file);
        const other = providerOf(target);
        if (own !== undefined && other !== undefined && other !== own) say('providers never import each other');
        if (own === undefined && other !== undefined && file !== 'gateway/providers/registry.ts') {
          say('only the registry knows provider folders');
        }
        if (target === 'gateway/config.ts' && !edge.typeOnly)
          say('providers take config values, not the config module');
      }
      // The providers reach their upstreams through the seam alone, Gemini over REST.
      if (
        file.startsWith('gateway/providers/') &&
        file !== 'gateway/providers/upstream.ts' &&
        target === 'gateway/lib/http-request.ts' &&
        !edge.typeOnly
      ) {
        say('only providers/upstream.ts imports the HTTP client (lib/http-request.ts)');
      }
      if (edge.specifier === '@google/genai' || edge.specifier.startsWith('@google/genai/')) {
        say('Gemini is called over its REST API: nothing imports @google/genai');
      }
      if (file.startsWith('gateway/http/') && providerOf(target) !== undefined) {
        say('the HTTP layer talks to providers only through the registry');
      }
      if (file.startsWith('gateway/') && file !== 'gateway/main.ts' && internal && target.startsWith('b24-app/')) {
        say('only gateway/main.ts composes the Bitrix24 app');
      }
      if (file.startsWith('gateway/lib/secrets/')) {
        if (internal ? !target.startsWith('gateway/lib/secrets/') : !edge.specifier.startsWith('node:'))
          say("gateway/lib/secrets imports only Node's built-ins and itself");
      }
      if (file.startsWith('b24-app/') && internal && target.startsWith('gateway/')) {
        const shared = target.startsWith('gateway/lib/secrets/') || target === ENV_MODULE;
        if (!(edge.typeOnly && target === 'gateway/openai/types.ts') && !shared)
          say('b24-app may only import types from gateway/openai/types.ts, gateway/lib/secrets and gateway/lib/env.ts');
      }
    }
  }
  return problems;
}

function sources(folder: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (directory: string) => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) found.set(relative(ROOT, path), readFileSync(path, 'utf8'));
    }
  };
  try {
    walk(join(ROOT, folder));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return found;
}

describe('architecture: import directions', () => {
  it('holds for the whole code base', () => {
    const files = new Map([...sources('gateway'), ...sources('b24-app')]);
    expect(files.size).to.be.greaterThan(20);
    expect(violations(files)).to.deep.equal([]);
  });

  it('catches each kind of violation', () => {
    const bad = new Map([
      ['gateway/providers/gigachat/index.ts', "import { chatCompletions } from '../../http/chat-completions.ts';"],
      ['gateway/providers/gigachat/client.ts', "import type { Context } from 'koa';"],
      ['gateway/providers/gemini/index.ts', "import { mapGigaChatError } from '../gigachat/map-error.ts';"],
      ['gateway/openai/errors.ts', "export { x } from '../lib/logger.ts';"],
      ['gateway/config.ts', "import { createLogger } from './lib/logger.ts';"],
      ['gateway/http/router.ts', "const provider = await import('../providers/gigachat/index.ts');"],
      ['b24-app/engine/worker.ts', "import { loadConfig } from '../../gateway/config.ts';"],
      ['gateway/app.ts', "import { createB24App } from '../b24-app/app.ts';"],
      ['gateway/providers/gigachat/token.ts', "import { loadConfig } from '../../config.ts';"],
      ['b24-app/portal/portal-store.ts', "import { openStore } from '../../gateway/lib/store.ts';"],
      ['gateway/lib/secrets/secret-box.ts', "import { createLogger } from '../logger.ts';"],
      ['gateway/lib/secrets/key-file.ts', "import Keyv from 'keyv';"],
      ['gateway/lib/env.ts', "import { createLogger } from './logger.ts';"],
      ['gateway/config-file.ts', "import { openStore } from './lib/store.ts';"],
      ['b24-app/cli.ts', "import { openStore } from '../gateway/lib/store.ts';"],
      ['gateway/providers/gemini/client.ts', "import { httpRequest } from '../../lib/http-request.ts';"],
      ['gateway/providers/gemini/wire-types.ts', "import type { Content } from '@google/genai';"],
    ]);
    const found = violations(bad);
    expect(found).to.have.length(bad.size);
    for (const file of bad.keys())
      expect(
        found.some((line) => line.startsWith(file)),
        file,
      ).to.equal(true);
  });

  it('allows what the style permits', () => {
    const good = new Map([
      [
        'gateway/providers/gigachat/index.ts',
        "import { UpstreamError } from '../../openai/errors.ts';\nimport type { GigaChatSettings } from '../../config.ts';",
      ],
      [
        'gateway/providers/gigachat/client.ts',
        "import { createAgent } from '../upstream.ts';\nimport type { RequestTarget } from '../../lib/http-request.ts';",
      ],
      ['gateway/providers/upstream.ts', "import { httpRequest } from '../lib/http-request.ts';"],
      ['gateway/http/chat-completions.ts', "import type { ProviderRegistry } from '../providers/registry.ts';"],
      [
        'b24-app/engine/worker.ts',
        "import type { OpenAIChatRequest } from '../../gateway/openai/types.ts';\nimport OpenAI from 'openai';",
      ],
      ['gateway/main.ts', "import { createB24App } from '../b24-app/app.ts';"],
      [
        'b24-app/portal/portal-store.ts',
        "import { SecretBox } from '../../gateway/lib/secrets/secret-box.ts';\nimport { readFileSync } from 'node:fs';",
      ],
      ['gateway/lib/secrets/secret-keys.ts', "import { SecretBox } from './secret-box.ts';"],
      ['gateway/lib/env.ts', "import { isIP } from 'node:net';"],
      ['gateway/config.ts', "import { readEnv } from './lib/env.ts';"],
      ['b24-app/cli.ts', "import { readEnv } from '../gateway/lib/env.ts';"],
    ]);
    expect(violations(good)).to.deep.equal([]);
  });
});

describe('architecture: one entrance for chat', () => {
  // The chat handler runs in one chain (http/chat-entrance.ts), which owes nothing to the Koa router.
  const importers = (target: string) =>
    [...sources('gateway')]
      .filter(([file, source]) => importsOf(file, source).some((edge) => edge.target === target))
      .map(([file]) => file);

  it('only the chat entrance runs the chat handler', () => {
    expect(importers('gateway/http/chat-completions.ts')).to.deep.equal(['gateway/http/chat-entrance.ts']);
  });

  it('the chat entrance does not import the router', () => {
    expect(importers('gateway/http/router.ts')).to.not.include('gateway/http/chat-entrance.ts');
    expect(importers('gateway/http/chat-entrance.ts')).to.include('gateway/app.ts');
  });
});

// Bitrix24 app: a handler answers a route and lives in a *-endpoint.ts file; handlers are siblings
// over services, so only the composition (b24-app/app.ts) imports one.
const isB24Handler = (path: string) => path.startsWith('b24-app/') && path.endsWith('-endpoint.ts');

function b24HandlerViolations(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, source] of files) {
    if (!file.startsWith('b24-app/') || file === 'b24-app/app.ts') continue;
    for (const edge of importsOf(file, source)) {
      if (edge.target !== undefined && isB24Handler(edge.target)) {
        problems.push(`${file} imports ${edge.specifier}: only b24-app/app.ts imports a handler`);
      }
    }
  }
  return problems;
}

/** The routes of createB24Router whose handler (the last argument) is not imported from a handler file. */
function b24RoutesOutsideHandlers(appSource: string): string[] {
  const origin = new Map<string, string>();
  for (const match of appSource.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
    for (const name of (match[1] as string).split(',')) {
      const local = name
        .trim()
        .split(/\s+as\s+/)
        .at(-1)
        ?.replace(/^type\s+/, '');
      if (local) origin.set(local, normalize(join('b24-app', match[2] as string)));
    }
  }
  const routes = [...appSource.matchAll(/router\.(?:get|post|put|patch|delete|head|all)\(\s*'([^']+)',([^;]*)\);/g)];
  return routes
    .map((route) => ({ path: route[1] as string, handler: /(\w+)\s*(?:\([^)]*\))?\s*$/.exec(route[2] as string)?.[1] }))
    .filter(({ handler }) => !isB24Handler(origin.get(handler ?? '') ?? ''))
    .map(({ path, handler }) => `${path}: ${handler}`);
}

describe('architecture: Bitrix24 app handlers are siblings over services', () => {
  it('holds for b24-app: no handler is imported but by app.ts, and every route is answered by one', () => {
    const files = sources('b24-app');
    expect([...files.keys()].filter(isB24Handler)).to.have.length.greaterThan(4);
    expect(b24HandlerViolations(files)).to.deep.equal([]);
    const app = files.get('b24-app/app.ts') as string;
    expect(app.match(/router\.(get|post)\(/g)).to.have.length.greaterThan(8);
    expect(b24RoutesOutsideHandlers(app)).to.deep.equal([]);
  });

  it('catches a handler importing a handler, a service importing one, and a route answered elsewhere', () => {
    const bad = new Map([
      ['b24-app/install/events-endpoint.ts', "import { apiOnlyInstall } from './install-endpoint.ts';"],
      ['b24-app/install/install.ts', "import { claimedOrigin } from '../page/app-page-endpoint.ts';"],
    ]);
    expect(b24HandlerViolations(bad)).to.have.length(2);
    const good = new Map([['b24-app/install/events-endpoint.ts', "import { installPortal } from './install.ts';"]]);
    expect(b24HandlerViolations(good)).to.deep.equal([]);
    const app = [
      "import { installEndpoint } from './install/install-endpoint.ts';",
      "import { installPortal } from './install/install.ts';",
      "  router.post('/b24/install', installEndpoint(deps));",
      "  router.post('/b24/events', session, installPortal);",
    ].join('\n');
    expect(b24RoutesOutsideHandlers(app)).to.deep.equal(['/b24/events: installPortal']);
  });
});

describe('architecture: one store helper knows SQLite from Redis', () => {
  // Only these open STORE_URL: the gateway's helper, and b24-app's opener for the CLI, which runs without the gateway.
  const OPENERS = ['gateway/lib/store.ts', 'b24-app/store.ts'];
  const backends = (files: ReadonlyMap<string, string>) =>
    [...files].flatMap(([file, source]) =>
      importsOf(file, source)
        .filter((edge) => /^@keyv\/(redis|sqlite)$/.test(edge.specifier) && !edge.typeOnly && !OPENERS.includes(file))
        .map((edge) => `${file} imports ${edge.specifier}: only the store helper tells the backends apart`),
    );

  it('holds for the whole code base', () => {
    expect(backends(new Map([...sources('gateway'), ...sources('b24-app')]))).to.deep.equal([]);
  });

  it('catches a backend check elsewhere, and allows the Redis client type', () => {
    const bad = new Map([['gateway/clients/policy.ts', "import KeyvRedis from '@keyv/redis';"]]);
    expect(backends(bad)).to.have.length(1);
    const good = new Map([
      ['gateway/clients/usage-store.ts', "import type { RedisClientConnectionType } from '@keyv/redis';"],
    ]);
    expect(backends(good)).to.deep.equal([]);
  });
});

/** The files every provider folder holds, each with the same role. */
const PROVIDER_CORE_FILES = [
  'client.ts',
  'translate-request.ts',
  'translate-messages.ts',
  'translate-response.ts',
  'translate-stream.ts',
  'map-error.ts',
  'map-finish-reason.ts',
  'function-schema.ts',
  'wire-types.ts',
  'index.ts',
];

describe('architecture: symmetric providers', () => {
  const folders = readdirSync(join(ROOT, 'gateway/providers')).filter((name) =>
    statSync(join(ROOT, 'gateway/providers', name)).isDirectory(),
  );

  it('finds the two provider folders', () => {
    expect(folders).to.include.members(['gigachat', 'gemini']);
  });

  for (const folder of ['gigachat', 'gemini']) {
    it(`gateway/providers/${folder} holds the ten core files`, () => {
      const files = readdirSync(join(ROOT, 'gateway/providers', folder));
      expect(PROVIDER_CORE_FILES.filter((name) => !files.includes(name))).to.deep.equal([]);
    });
  }

  it('only providers/upstream.ts writes the upstream request id', () => {
    const writers = [...sources('gateway')]
      .filter(([, source]) => /\.upstreamRequestId\s*=[^=]/.test(source))
      .map(([file]) => file);
    expect(writers).to.deep.equal(['gateway/providers/upstream.ts']);
  });

  it('every provider folder has an entry in the registry table', () => {
    const registry = readFileSync(join(ROOT, 'gateway/providers/registry.ts'), 'utf8');
    for (const folder of folders) expect(registry).to.contain(`name: '${folder}'`);
  });
});
