import type { FastifyInstance, FastifyRequest } from 'fastify';
import { topK } from '../jobs/predict.ts';
import { badRequest } from './http-error.ts';
import type { ServerContext } from './server-context.ts';

/**
 * TorchServe's plain endpoints, for people without a client library: `POST /predictions/{name}`
 * with an image as the raw body or as one multipart file, answered `{label: probability}` for
 * the top k (`?topk=` to change k), and `GET /ping`.
 */
export function torchServeRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/ping', async () => ({ status: 'Healthy' }));

  app.post<{ Params: { name: string }; Querystring: { topk?: string } }>('/predictions/:name', async (request) => {
    const model = ctx.model(request.params.name);
    const k = topkOf(request.query.topk, ctx.options.topk, model.predictor.classes);
    const image = await uploadedImage(request);
    ctx.tag(request, 1);
    const [row] = await model.classifyImages([image.bytes], [image.name]);
    return Object.fromEntries(topK(row, k, model.predictor.labels).map((t) => [t.label, t.prob]));
  });
}

function topkOf(given: string | undefined, fallback: number, classes: number): number {
  if (given === undefined) return Math.min(fallback, classes);
  const k = Number(given);
  if (!/^\d+$/.test(given) || k < 1) throw badRequest(`topk must be a positive integer, not ${JSON.stringify(given).slice(0, 40)}`);
  return Math.min(k, classes);
}

/** The image of the request: its raw body, or the one file of a multipart form. */
async function uploadedImage(request: FastifyRequest): Promise<{ bytes: Uint8Array; name: string }> {
  if (!request.isMultipart()) {
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw badRequest('send the image as the request body (or as a multipart file); the body is empty');
    return { bytes: body, name: 'the request body' };
  }
  const file = await request.file();
  if (!file) throw badRequest('the multipart form holds no file; send the image as a file field (e.g. curl -F data=@image.jpg)');
  const bytes = await file.toBuffer();
  if (bytes.length === 0) throw badRequest(`the multipart file ${JSON.stringify(file.fieldname).slice(0, 60)} is empty`);
  return { bytes, name: `the multipart file ${JSON.stringify(file.filename || file.fieldname).slice(0, 80)}` };
}
