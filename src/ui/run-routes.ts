import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime/runtime.ts';
import type { Inspection } from './api.ts';
import { badRequest, conflict, tooLarge } from './http-error.ts';
import { imageSize } from './upload-checks.ts';
import { inspection, reviewFeatures } from './inspect.ts';
import type { Project } from './project.ts';
import type { RunModels } from './run-models.ts';
import type { Runs } from './runs.ts';
import { readValidation } from './validation-file.ts';
import { backboneChoices } from './backbones.ts';

const runParam = (request: FastifyRequest) => (request.params as { run: string }).run;

/** The image a test request carries: its raw body, or the one file of a multipart form. */
async function testImage(request: FastifyRequest): Promise<Uint8Array> {
  if (!request.isMultipart()) {
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw badRequest('send the image as the request body (image/* or application/octet-stream) or as a multipart file');
    return body;
  }
  const file = await request.file();
  if (!file) throw badRequest('the multipart form holds no file');
  const bytes = await file.toBuffer();
  if (file.file.truncated) throw badRequest('the image is over the upload size limit');
  if (bytes.length === 0) throw badRequest('the image file is empty');
  return bytes;
}

/** Backbones, runs, and what a trained run offers: inspect, test, export, serve. */
export function runRoutes(app: FastifyInstance, project: Project, runs: Runs, models: RunModels, runtime: Runtime): void {
  app.get('/api/models', async () => backboneChoices(project.folder.root));
  app.get('/api/runs', async () => runs.list());
  app.post('/api/runs', async (request, reply) => reply.code(201).send(runs.start(request.body)));
  app.get('/api/runs/:run', async (request) => runs.detail(runParam(request)));
  app.post('/api/runs/:run/stop', async (request) => runs.stop(runParam(request)));
  app.delete('/api/runs/:run', async (request) => runs.delete(runParam(request)));

  const inspecting = new Map<string, Promise<Inspection>>();
  app.get('/api/runs/:run/inspect', async (request) => {
    runs.modelFolder(runParam(request));
    const run = runs.get(runParam(request));
    const validation = await readValidation(runs.logDir, run.id);
    if (!validation) throw conflict(`run ${run.id} kept no validation predictions (it was trained outside the web app, or stopped before it ended)`);
    let pending = inspecting.get(run.id);
    if (!pending) {
      pending = inspection(runs.logDir, run.id, validation, () => reviewFeatures(project.folder.dataDir, runs.featuresDir(run.id), run.config, runtime))
        .finally(() => inspecting.delete(run.id));
      inspecting.set(run.id, pending);
    }
    return pending;
  });

  app.post('/api/runs/:run/predict', async (request) => {
    const folder = runs.modelFolder(runParam(request));
    const image = await testImage(request);
    const size = await imageSize(image, project.limits.maxPixels);
    if ('problem' in size) throw size.tooLarge ? tooLarge(`the test image: ${size.problem}`) : badRequest(`the test image: ${size.problem}`);
    return models.predict(runParam(request), folder, image);
  });

  app.post('/api/runs/:run/export', async (request) => {
    const folder = runs.modelFolder(runParam(request));
    return models.export(runParam(request), folder, ((request.body ?? {}) as { format?: unknown }).format);
  });

  app.get('/api/runs/:run/download', async (request, reply) => {
    const run = runs.get(runParam(request));
    const { name, bytes } = await models.download(run.id, (request.query as { file?: string }).file);
    return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${name}"`).send(bytes);
  });

  app.post('/api/runs/:run/serve', async (request) => {
    const folder = runs.modelFolder(runParam(request));
    return models.serve(runParam(request), folder);
  });
  app.delete('/api/runs/:run/serve', async (request) => models.stopServing(runs.get(runParam(request)).id));
}
