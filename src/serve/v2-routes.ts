import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound } from './http-error.ts';
import type { ServedModel } from './served-model.ts';
import type { ServerContext } from './server-context.ts';
import { parseInferRequest, type ModelInputs } from './v2-request.ts';
import { inferResponse } from './v2-response.ts';

const INPUT = 'input';
const OUTPUT = 'probabilities';
/** graft serves one version of each model. */
const MODEL_VERSION = '1';
const EXTENSIONS = ['classification', 'binary_tensor_data'];

interface ModelParams { name: string; version?: string }

/**
 * The Open Inference Protocol's REST endpoints (KServe v2): server and model health, metadata,
 * and inference, as its specification gives them; errors are `{"error": "..."}`.
 */
export function v2Routes(app: FastifyInstance, ctx: ServerContext): void {
  const served = (request: FastifyRequest<{ Params: ModelParams }>): ServedModel => {
    const model = ctx.model(request.params.name);
    const v = request.params.version;
    if (v !== undefined && v !== MODEL_VERSION) throw notFound(`model ${model.name} has no version ${JSON.stringify(v).slice(0, 60)}; its version is "${MODEL_VERSION}"`);
    return model;
  };

  app.get('/v2', async () => ({ name: 'graft', version: ctx.version, extensions: EXTENSIONS }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async () => ({ ready: true }));

  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get<{ Params: ModelParams }>(prefix, async (request) => {
      const model = served(request);
      const [c, h, w] = model.predictor.inputShape;
      return {
        name: model.name,
        versions: [MODEL_VERSION],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: INPUT, datatype: 'FP32', shape: [-1, c, h, w] }],
        outputs: [{ name: OUTPUT, datatype: 'FP32', shape: [-1, model.predictor.classes] }],
      };
    });
    app.get<{ Params: ModelParams }>(`${prefix}/ready`, async (request) => ({ name: served(request).name, ready: true }));
    app.post<{ Params: ModelParams; Body: Buffer }>(`${prefix}/infer`, async (request, reply) => {
      const model = served(request);
      if (request.isMultipart()) throw badRequest('the inference request is JSON (optionally followed by binary tensors), not multipart; POST /predictions/{name} takes uploaded images');
      const header = request.headers['inference-header-content-length'];
      const parsed = parseInferRequest(body(request.body), Array.isArray(header) ? header[0] : header, inputsOf(model, ctx));
      const n = parsed.input.kind === 'tensor' ? parsed.input.n : parsed.input.images.length;
      ctx.tag(request, n);
      const rows = parsed.input.kind === 'tensor'
        ? await model.classifyTensors(parsed.input.data, parsed.input.n)
        : await model.classifyImages(parsed.input.images, parsed.input.images.map((_, i) => `inputs[0].data[${i}]`));
      const answer = inferResponse(rows, model.predictor.labels, parsed, { model: model.name, version: MODEL_VERSION, output: OUTPUT });
      if (answer.headerLength !== null) {
        reply.header('inference-header-content-length', String(answer.headerLength));
        return reply.type('application/octet-stream').send(answer.body);
      }
      return reply.type('application/json').send(answer.body);
    });
  }
}

function inputsOf(model: ServedModel, ctx: ServerContext): ModelInputs {
  return { inputName: INPUT, outputName: OUTPUT, imageShape: model.predictor.inputShape, classes: model.predictor.classes, maxImages: ctx.options.maxQueue };
}

/** The raw body (every content type is read as bytes); an empty POST has none. */
function body(raw: unknown): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  throw badRequest('the inference request needs a JSON body');
}
