import { readdir, readFile, rm, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { zip } from 'fflate';
import { exportModel, EXPORT_FORMATS, type ExportFormat } from '../jobs/export.ts';
import { loadModel, type LoadedModel } from '../jobs/load-model.ts';
import { predict } from '../jobs/predict.ts';
import { writeFileAtomic } from '../formats/atomic-write.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { ExportChoice, ExportInfo, ServeInfo, TestPrediction } from './api.ts';
import { badRequest, conflict, notFound, quoted } from './http-error.ts';
import { componentProblem } from './names.ts';
import type { StartedModelServer } from './options.ts';

const EXTENSIONS: Record<ExportChoice, string> = { onnx: 'onnx', pytorch: 'pth', safetensors: 'safetensors', zip: 'zip' };

/**
 * What the web app does with a trained model folder: classify a test image exactly as
 * `graft predict` does (the predict job on the loaded folder), export it into
 * .graft/exports/<run>/, and serve it with graft serve's server. Loaded models and servers are
 * dropped when the run's folder changes or goes.
 */
export class RunModels {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();
  private readonly servers = new Map<string, StartedModelServer>();

  constructor(
    private readonly exportsRoot: string,
    private readonly runtime: Runtime,
    private readonly serveModel: ((dir: string) => Promise<StartedModelServer>) | null,
  ) {}

  async predict(run: string, folder: string, image: Uint8Array): Promise<TestPrediction> {
    let model = this.loaded.get(run);
    if (!model) {
      model = loadModel(folder, { runtime: this.runtime });
      model.catch(() => this.loaded.delete(run));
      // One model kept: the page tests one run at a time.
      this.loaded.clear();
      this.loaded.set(run, model);
    }
    const [result] = await predict(await model, [image], { topk: 5, runtime: this.runtime });
    if (result.error) throw badRequest(`the image cannot be classified: ${result.error}`);
    return { top: result.top.map((t) => ({ label: t.label, prob: t.prob })) };
  }

  exportDir(run: string): string {
    return join(this.exportsRoot, run);
  }

  async export(run: string, folder: string, format: unknown): Promise<ExportInfo> {
    if (typeof format !== 'string' || !(format === 'zip' || (EXPORT_FORMATS as readonly string[]).includes(format))) {
      throw badRequest(`Expected one of ${[...EXPORT_FORMATS, 'zip'].join(', ')} for format but received ${quoted(format)}`);
    }
    const dir = this.exportDir(run);
    await mkdir(dir, { recursive: true });
    const file = `${run}.${EXTENSIONS[format as ExportChoice]}`;
    const out = join(dir, file);
    if (format === 'zip') {
      await writeFileAtomic(out, [await zipFolder(folder, run)]);
    } else {
      // ONNX with the preprocessing and the softmax inside: uint8 RGB images in, probabilities out, as graft predict answers.
      const onnx = format === 'onnx' ? { withPreprocessing: true, softmax: true } : {};
      await exportModel(folder, { format: format as ExportFormat, out, runtime: this.runtime, ...onnx }).catch((e: Error) => {
        // A model that has no such form (an imported ONNX backbone has no torchvision module for a .pth) is the request's problem, not the server's.
        throw e instanceof RangeError || e instanceof TypeError ? conflict(e.message) : e;
      });
    }
    const bytes = (await stat(out)).size;
    return { format: format as ExportChoice, file, bytes, url: `/api/runs/${encodeURIComponent(run)}/download?file=${encodeURIComponent(file)}` };
  }

  /** A file of the run's exports folder, by its plain name only. */
  async download(run: string, file: unknown): Promise<{ name: string; bytes: Buffer }> {
    if (typeof file !== 'string' || componentProblem(file) !== null) throw badRequest(`Expected the name of an exported file for file but received ${quoted(file)}`);
    const names = await readdir(this.exportDir(run)).catch(() => [] as string[]);
    if (!names.includes(file)) throw notFound(`run ${quoted(run)} has no exported file ${quoted(file)}; export it first`);
    return { name: file, bytes: await readFile(join(this.exportDir(run), file)) };
  }

  async serve(run: string, folder: string): Promise<ServeInfo> {
    if (!this.serveModel) throw conflict('this server was started without graft serve; run graft serve on the model folder instead');
    let server = this.servers.get(run);
    if (!server) {
      server = await this.serveModel(folder);
      this.servers.set(run, server);
    }
    return { url: server.url, model: run };
  }

  async stopServing(run: string): Promise<{ stopped: true }> {
    const server = this.servers.get(run);
    if (!server) throw notFound(`run ${quoted(run)} is not being served`);
    this.servers.delete(run);
    await server.close();
    return { stopped: true };
  }

  /** The run's folder changed or went: its loaded model, server and exports go with it. */
  async forget(run: string): Promise<void> {
    this.loaded.delete(run);
    const server = this.servers.get(run);
    this.servers.delete(run);
    await server?.close();
    await rm(this.exportDir(run), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    const servers = [...this.servers.values()];
    this.servers.clear();
    this.loaded.clear();
    await Promise.all(servers.map((s) => s.close()));
  }
}

/** The model folder's files, recursively, as one zip under a folder named after the run. */
async function zipFolder(folder: string, run: string): Promise<Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const walk = async (dir: string, prefix: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path, `${prefix}${entry.name}/`);
      else if (entry.isFile()) files[`${prefix}${entry.name}`] = await readFile(path);
    }
  };
  await walk(folder, `${run}/`);
  return new Promise((resolve, reject) => zip(files, { level: 6 }, (error, data) => (error ? reject(error) : resolve(data))));
}
