import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative } from 'node:path';
import { expect } from 'chai';
import { startFlags } from '../helpers/start-flags.ts';

// Issue 7, point 8. No Docker engine was available where these files were written, so this test
// checks what it can without one: the Dockerfile's essentials, that the image gets every file and
// package the running gateway imports (it has only gateway/, b24-app/ and production dependencies),
// and the compose file's shape.

const ROOT = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Dockerfile instructions as [keyword, arguments], continuation lines joined, comments dropped. */
function instructions(dockerfile: string): Array<[string, string]> {
  const joined = dockerfile.replace(/\\\r?\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return [keyword.toUpperCase(), rest.join(' ')];
    });
}

/** The instructions of each stage (from one FROM to the next). */
function stages(dockerfile: string): Array<Array<[string, string]>> {
  const found: Array<Array<[string, string]>> = [];
  for (const instruction of instructions(dockerfile)) {
    if (instruction[0] === 'FROM') found.push([]);
    found.at(-1)?.push(instruction);
  }
  return found;
}

function sourceFiles(folder: string): string[] {
  const files: string[] = [];
  const walk = (directory: string) => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) files.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, folder));
  return files;
}

const RUNTIME_IMPORT =
  /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

describe('Dockerfile, .dockerignore and compose.yaml (issue 7, point 8; untested without a Docker engine)', () => {
  const dockerfile = read('Dockerfile');
  const [build, runtime] = stages(dockerfile);

  it('builds on Node 24 in two stages: production dependencies with compilers, a runtime without them', () => {
    expect(stages(dockerfile)).to.have.length(2);
    for (const stage of [build, runtime]) expect(stage?.[0]?.[1]).to.match(/^node:24(-[\w.-]+)?\b/);
    const buildRuns = (build ?? []).filter(([keyword]) => keyword === 'RUN').map(([, command]) => command);
    expect(buildRuns.join('\n')).to.match(/npm ci --omit=dev/);
    expect(buildRuns.join('\n')).to.match(/python3 make g\+\+/);
    const runtimeText = (runtime ?? []).map(([keyword, rest]) => `${keyword} ${rest}`).join('\n');
    expect(runtimeText).not.to.match(/apt-get|npm (ci|install)|g\+\+/);
    expect(runtimeText).to.contain('COPY --from=deps /app/node_modules ./node_modules');
  });

  it("runs as a non-root user, checks /healthz with node itself, and starts node gateway/main.ts directly with npm start's flags", () => {
    const last = (keyword: string) => (runtime ?? []).filter(([name]) => name === keyword).at(-1)?.[1];
    expect(last('USER'))
      .to.be.a('string')
      .and.not.match(/^(root|0)(:|$)/);
    const healthcheck = last('HEALTHCHECK') ?? '';
    expect(healthcheck).to.match(/CMD \["node", "-e",/);
    expect(healthcheck).to.contain('/healthz');
    expect(healthcheck).not.to.match(/curl|wget/);
    // The container's Node runs as `npm start` does (the memory flags), without the .env file.
    const flags = startFlags();
    expect(flags).to.include.members(['--max-semi-space-size=16', '--heap-growing-percent=100']);
    expect(JSON.parse(last('CMD') ?? '[]')).to.deep.equal(['node', ...flags, 'gateway/main.ts']);
    expect(last('ENV')).to.match(/HOST=0\.0\.0\.0/);
    expect(dockerfile).to.contain('GATEWAY_API_KEYS'); // HOST=0.0.0.0 needs keys: the file says so
  });

  it('the image gets every file and package the gateway imports: gateway/, b24-app/ and dependencies only', () => {
    const copied = (runtime ?? [])
      .filter(([keyword, rest]) => keyword === 'COPY' && !rest.startsWith('--from'))
      .map(([, rest]) => rest.split(/\s+/)[0]);
    expect(copied).to.have.members(['package.json', 'gateway', 'b24-app']);
    const ignore = read('.dockerignore')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(ignore[0]).to.equal('**'); // .env, data/ and node_modules/ stay out of the build context
    expect(ignore.slice(1)).to.have.members(['!package.json', '!package-lock.json', '!gateway', '!b24-app']);

    const dependencies = Object.keys(JSON.parse(read('package.json')).dependencies as Record<string, string>);
    const problems: string[] = [];
    for (const file of [...sourceFiles('gateway'), ...sourceFiles('b24-app')]) {
      for (const match of read(file).matchAll(RUNTIME_IMPORT)) {
        const specifier = (match[1] ?? match[2]) as string;
        if (specifier.startsWith('.')) {
          const target = normalize(join(dirname(file), specifier));
          if (!target.startsWith('gateway/') && !target.startsWith('b24-app/')) problems.push(`${file} → ${target}`);
          continue;
        }
        if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
        if (!dependencies.includes(name as string))
          problems.push(`${file} → ${specifier} (not a production dependency)`);
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('compose.yaml runs the gateway against redis:7 with healthchecks, a Redis volume and a stop grace above the drain', () => {
    const compose = read('compose.yaml');
    expect(compose).to.match(/^services:\n {2}gateway:\n {4}build: \.$/m);
    expect(compose).to.match(/^ {2}redis:\n {4}image: redis:7$/m);
    expect(compose).to.match(/STORE_URL: redis:\/\/redis:6379/);
    expect(compose).to.match(/HOST: 0\.0\.0\.0/);
    expect(compose).to.match(/condition: service_healthy/);
    expect(compose).to.match(/test: \["CMD", "redis-cli", "ping"\]/);
    expect(compose).to.match(/- redis-data:\/data/);
    expect(compose).to.match(/^volumes:\n {2}redis-data:/m);
    const grace = Number(/stop_grace_period: (\d+)s/.exec(compose)?.[1]);
    expect(grace * 1000).to.be.greaterThan(25_000); // SHUTDOWN_TIMEOUT_MS's default
    expect(compose).not.to.match(/GATEWAY_API_KEYS:\s*\S|GIGACHAT_CREDENTIALS:\s*\S|GEMINI_API_KEY:\s*\S/); // secrets come from .env
  });
});
