/**
 * The front end: files under web/ (plain ES modules, a stylesheet, icons)
 * served from memory with ETags, and index.html for every page path so the
 * browser app can route itself. In a build the files sit beside the
 * compiled server (scripts/build-console.mjs copies them there).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('./web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The front end's files, by path below it. */
export const ASSET_ROUTE = '/assets/*';

/** The paths the browser app draws; anything else outside /api and /assets is a 404. */
export const PAGE_PATHS = ['/', '/login', '/modules', '/modules/:modid/:cmdid', '/changes', '/tokens', '/users', '/connected'];

/**
 * Front-end libraries served from their npm packages, which are dependencies
 * of this one, so a build copies nothing and an install carries them: asset
 * path -> module (docs/console.md, "Charts").
 */
const PACKAGED_ASSETS: Record<string, string> = {
  '/vendor/uplot.js': 'uplot/dist/uPlot.esm.js',
  '/vendor/uplot.css': 'uplot/dist/uPlot.min.css',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function assetOf(file: string, type: string): Asset {
  const body = readFileSync(file);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

export function loadAssets(dir: string): Map<string, Asset> {
  let files: string[];
  try {
    files = walk(dir);
  } catch (err) {
    throw new Error(`console front-end files not found in ${dir} (${(err as Error).message}); run npm run build`);
  }
  const assets = new Map<string, Asset>();
  for (const file of files) {
    const type = TYPES[extname(file)];
    if (!type) continue; // tsconfig.json for type-checking the front end, and the like
    assets.set('/' + relative(dir, file).split(sep).join('/'), assetOf(file, type));
  }
  const resolve = createRequire(import.meta.url).resolve;
  for (const [path, module] of Object.entries(PACKAGED_ASSETS)) assets.set(path, assetOf(resolve(module), TYPES[extname(module)]!));
  if (!assets.has('/index.html')) throw new Error(`console front-end incomplete: no index.html in ${dir}; run npm run build`);
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  // Revalidate every time: a deploy must never leave a stale module in the browser.
  reply.header('cache-control', 'no-cache').header('etag', asset.etag);
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

const hidden = { hide: true, response: { 200: { type: 'string' } } };

/**
 * Registers the pages and /assets/*; returns what answers any other path a
 * browser asks for: the app (status 404), which draws its own "no such page"
 * with the navigation around it instead of a bare "not found".
 */
export function registerStaticRoutes(app: FastifyInstance, dir: string): (reply: FastifyReply) => FastifyReply {
  const assets = loadAssets(dir);
  const index = assets.get('/index.html')!;
  for (const path of PAGE_PATHS) {
    app.get(path, { config: { access: 'public' }, schema: hidden }, (request, reply) => send(request, reply, index));
  }
  app.get<{ Params: { '*': string } }>(
    ASSET_ROUTE,
    { config: { access: 'public' }, schema: { ...hidden, params: { type: 'object', properties: { '*': { type: 'string', maxLength: 200 } } } } },
    (request, reply) => {
      const asset = assets.get('/' + request.params['*']);
      if (!asset || request.params['*'] === 'index.html') return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
      return send(request, reply, asset);
    },
  );
  return (reply) => reply.code(404).header('cache-control', 'no-cache').type(index.type).send(index.body);
}
