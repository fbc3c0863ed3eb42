import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { notFound } from './http-error.ts';
import { componentProblem, confined } from './names.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.webp': 'image/webp', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.wasm': 'application/wasm',
};

/**
 * The built front end: `/` is its index.html, `/assets/<path>` its files, looked up in the
 * bundle's assets/ folder and then at its top. Paths are checked as ids are: plain components only.
 */
export function staticRoutes(app: FastifyInstance, assetsDir: string): void {
  const send = async (parts: string[]) => {
    for (const candidate of [['assets', ...parts], parts]) {
      const bytes = await readFile(confined(assetsDir, candidate, 'The asset')).catch(() => null);
      if (bytes) return { bytes, type: TYPES[extname(parts[parts.length - 1]).toLowerCase()] ?? 'application/octet-stream' };
    }
    throw notFound(`no asset ${parts.join('/').slice(0, 200)}`);
  };
  app.get('/', async (_request, reply) => {
    const { bytes, type } = await send(['index.html']).catch(() => { throw notFound('the front end is not built: no index.html'); });
    return reply.type(type).header('cache-control', 'no-store').send(bytes);
  });
  app.get('/assets/*', async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    const parts = rest.split('/');
    if (parts.some((p) => componentProblem(p) !== null)) throw notFound(`no asset ${rest.slice(0, 200)}`);
    const { bytes, type } = await send(parts);
    return reply.type(type).send(bytes);
  });
}
