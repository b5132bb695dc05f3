import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context } from 'koa';

const HERE = dirname(new URL(import.meta.url).pathname);
const SDK_DIR = dirname(createRequire(import.meta.url).resolve('@bitrix24/b24jssdk/package.json'));

/** The page's static files: our own, and b24jssdk's browser build for the frame API. */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  'app.css': { file: join(HERE, 'assets/app.css'), type: 'text/css; charset=utf-8' },
  'app.js': { file: join(HERE, 'assets/app.js'), type: 'text/javascript; charset=utf-8' },
  'install.js': { file: join(HERE, 'assets/install.js'), type: 'text/javascript; charset=utf-8' },
  'b24jssdk.js': { file: join(SDK_DIR, 'dist/umd/index.min.js'), type: 'text/javascript; charset=utf-8' },
};

const cache = new Map<string, Buffer>();

/** `GET /b24/assets/:name`. */
export async function serveAsset(ctx: Context): Promise<void> {
  const name = String(ctx.params.name);
  // Own keys only: `constructor`, `__proto__` or `toString` would find Object.prototype's members.
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (asset === undefined) {
    ctx.status = 404;
    ctx.body = 'Not found';
    return;
  }
  let bytes = cache.get(asset.file);
  if (bytes === undefined) {
    // The SDK build ends with a source map comment whose map we do not serve.
    bytes = Buffer.from(readFileSync(asset.file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
    cache.set(asset.file, bytes);
  }
  ctx.type = asset.type;
  ctx.set('cache-control', 'public, max-age=3600');
  ctx.set('x-content-type-options', 'nosniff');
  ctx.body = bytes;
}
