import { basename } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readImageFile } from '../data/decode.ts';
import type { BadFile, ImageInfo, MoveRequest, UploadResult } from './api.ts';
import { badRequest, HttpError, quoted, tooLarge } from './http-error.ts';
import { checkClassName } from './names.ts';
import type { Project } from './project.ts';
import { ThumbnailError } from './thumbnails.ts';

export interface UploadLimits { maxFileBytes: number; maxFiles: number }

function queryInt(q: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const v = q[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`Expected an integer from ${min} to ${max} for ${name} but received ${quoted(v)}`);
  return n;
}

const body = (request: FastifyRequest) => (request.body ?? {}) as Record<string, unknown>;

/** Classes and images: the data page's routes. */
export function dataRoutes(app: FastifyInstance, project: Project, limits: UploadLimits): void {
  app.get('/api/project', async () => project.info());

  app.post('/api/classes', async (request, reply) => reply.code(201).send(project.createClass(body(request).name)));
  app.patch('/api/classes/:name', async (request) => project.renameClass((request.params as { name: string }).name, body(request).name));
  app.delete('/api/classes/:name', async (request) => project.deleteClass((request.params as { name: string }).name));

  app.get('/api/images', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    return project.page({
      class: q.class || undefined, split: q.split || undefined,
      offset: queryInt(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER), limit: queryInt(q, 'limit', 100, 1, 500),
    });
  });

  app.get('/api/images/thumb', async (request, reply) => {
    const image = project.image((request.query as { id?: string }).id);
    // The cache key names the file's content (id, mtime, size): a browser that has it revalidates for free.
    const etag = `"${basename(project.thumbs.file(image), '.webp')}"`;
    reply.header('etag', etag).header('cache-control', 'private, no-cache');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    try {
      const webp = await project.thumbs.get(image);
      return reply.type('image/webp').send(webp);
    } catch (error) {
      if (!(error instanceof ThumbnailError)) throw error;
      project.markBad(image.id, error.reason);
      throw new HttpError(422, error.message);
    }
  });

  app.get('/api/images/file', async (request, reply) => {
    const image = project.image((request.query as { id?: string }).id);
    const bytes = await readImageFile(image.path).catch((e: Error) => { throw new HttpError(422, e.message); });
    return reply.type(contentType(image.id)).send(bytes);
  });

  app.post('/api/images', async (request, reply) => {
    if (!request.isMultipart()) throw badRequest('send the images as multipart/form-data: a field "class", then the files');
    let cls: string | null = null;
    const added: ImageInfo[] = [];
    const rejected: BadFile[] = [];
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (part.fieldname === 'class') cls = checkClassName(part.value, 'class');
        continue;
      }
      if (cls === null) {
        await part.toBuffer().catch(() => undefined);
        throw badRequest('the field "class" must come before the files in the form');
      }
      // An oversized file arrives cut at the limit (throwFileSizeLimit is off), so the others still count.
      const bytes = await part.toBuffer();
      if (part.file.truncated) {
        rejected.push({ id: part.filename.slice(0, 200), reason: `over the limit of ${limits.maxFileBytes} bytes per file` });
        continue;
      }
      const result = await project.addImage(cls, part.filename ?? '', bytes);
      if ('added' in result) added.push(result.added);
      else rejected.push(result.rejected);
    }
    if (added.length) project.uploaded();
    const result: UploadResult = { added, rejected };
    if (added.length === 0 && rejected.length > 0) {
      // Nothing was added: a 400 that still lists each file's reason.
      return reply.code(400).send({ error: `no image added: ${rejected.map((r) => `${quoted(r.id)}: ${r.reason}`).join('; ').slice(0, 1000)}`, statusCode: 400, ...result });
    }
    if (added.length === 0) throw badRequest('the form holds no files');
    return result;
  });

  app.post('/api/images/move', async (request) => {
    const { ids, class: cls } = body(request) as Partial<MoveRequest>;
    return { moved: project.move(ids, cls) };
  });
  app.post('/api/images/delete', async (request) => project.delete(body(request).ids));
}

/** Raised by @fastify/multipart when a request has more files than allowed. */
export function uploadLimitError(error: Error & { code?: string }, limits: UploadLimits): HttpError | null {
  if (error.code === 'FST_FILES_LIMIT') return tooLarge(`at most ${limits.maxFiles} files per upload request`);
  if (error.code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge(`a file is over the limit of ${limits.maxFileBytes} bytes`);
  return null;
}

function contentType(id: string): string {
  const ext = id.slice(id.lastIndexOf('.')).toLowerCase();
  return ({ '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp', '.bmp': 'image/bmp', '.tif': 'image/tiff', '.tiff': 'image/tiff' } as Record<string, string>)[ext] ?? 'application/octet-stream';
}
