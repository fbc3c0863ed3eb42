import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { train } from '../jobs/train.ts';
import { parseModelSpec } from '../models/model-spec.ts';
import { isModelFolder, MANIFEST_FILE, type ModelManifest } from '../artifacts/model-folder.ts';
import { AbortError } from '../train/abort.ts';
import { DEFAULTS, resolveConfig, type TrainConfig } from '../train/config.ts';
import type { TrainEvent } from '../train/fit.ts';
import type { EpochRecord } from '../train/history.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { RunDetail, RunInfo, StartRun } from './api.ts';
import type { EventHub } from './event-hub.ts';
import { badRequest, conflict, notFound, quoted } from './http-error.ts';
import { BUNDLED_BACKBONE } from './options.ts';
import type { Project } from './project.ts';
import { readRunLogs, RunLog } from './run-log.ts';
import { RunRecord } from './run-record.ts';
import { saveValidation } from './validation-file.ts';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** How often a running run's progress is sent to the pages at most. */
const PROGRESS_EVERY_MS = 250;

interface ActiveRun { record: RunRecord; controller: AbortController; done: Promise<void> }

/** A run id from the time it started and a short random suffix: sorts by time, never clashes. */
function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(2).toString('hex')}`;
}

/**
 * The project's training runs: those logged under .graft/runs/ and model folders under runs/
 * trained elsewhere, and the one run going now (one at a time). A run trains with the jobs'
 * `train()` on the project's data into runs/<id>/, with the feature cache in .graft/cache, and
 * keeps going whether or not a page is open. Its events become the pages' events and its log.
 */
export class Runs {
  private readonly runs = new Map<string, RunRecord>();
  private active: ActiveRun | null = null;
  /** Called when a run's model folder is replaced or removed (its loaded models, exports and server go stale). */
  onFolderChange: (id: string) => Promise<void> = async () => {};

  constructor(private readonly project: Project, private readonly runtime: Runtime, private readonly hub: EventHub, private readonly log: (line: string) => void) {}

  get logDir(): string {
    return this.project.folder.cache('runs');
  }

  async load(): Promise<void> {
    for (const run of await readRunLogs(this.logDir)) this.runs.set(run.id, run);
    for (const name of readdirSync(this.project.folder.runsDir)) {
      if (this.runs.has(name) || !RUN_ID.test(name)) continue;
      const folder = join(this.project.folder.runsDir, name);
      if (!isModelFolder(folder)) continue;
      const run = await fromModelFolder(name, folder).catch(() => null);
      if (run) this.runs.set(name, run);
    }
  }

  /** Where inspect keeps the run's backbone features of every image. */
  featuresDir(id: string): string {
    return join(this.project.folder.cache('features'), id);
  }

  list(): RunInfo[] {
    return [...this.runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)).map((r) => r.info());
  }

  get(id: unknown): RunRecord {
    if (typeof id !== 'string' || !RUN_ID.test(id)) throw badRequest(`Expected a run id (letters, digits, ".", "_", "-") but received ${quoted(id)}`);
    const run = this.runs.get(id);
    if (!run) throw notFound(`no run ${quoted(id)} in the project`);
    return run;
  }

  detail(id: unknown): RunDetail {
    return this.get(id).detail();
  }

  /** The run's model folder, when training has written one. */
  modelFolder(id: unknown): string {
    const run = this.get(id);
    const folder = join(this.project.folder.runsDir, run.id);
    if (!isModelFolder(folder)) throw conflict(`run ${quoted(run.id)} has no trained model${run.status === 'running' ? ' yet' : ''}`);
    if (this.active?.record === run) throw conflict(`run ${quoted(run.id)} is still training`);
    return folder;
  }

  start(body: unknown): RunInfo {
    if (this.active) throw conflict(`run ${quoted(this.active.record.id)} is going; stop it or wait for it to end`);
    const { config, id } = this.checkStart(body);
    const classes = this.project.info().classes;
    const empty = classes.filter((c) => c.count === 0).map((c) => quoted(c.name));
    if (empty.length) throw badRequest(`class ${empty.join(', ')} has no images: add some, or delete the class, before training`);
    if (classes.length < 2) throw badRequest(`training needs at least two classes with images; the project has ${classes.length}`);
    const record = new RunRecord(id, config, new Date().toISOString());
    const log = new RunLog(join(this.logDir, `${id}.jsonl`), (e) => this.log(`graft ui: cannot write the log of run ${id}: ${e.message}`));
    log.start(record);
    this.runs.set(id, record);
    const controller = new AbortController();
    this.active = { record, controller, done: this.train(record, log, controller.signal) };
    this.publish(record);
    return record.info();
  }

  stop(id: unknown): RunInfo {
    const run = this.get(id);
    if (this.active?.record === run) this.active.controller.abort();
    return run.info();
  }

  async delete(id: unknown): Promise<{ deleted: true }> {
    const run = this.get(id);
    if (this.active?.record === run) throw conflict(`run ${quoted(run.id)} is going; stop it first`);
    this.runs.delete(run.id);
    await this.onFolderChange(run.id);
    await rm(join(this.project.folder.runsDir, run.id), { recursive: true, force: true });
    await rm(this.featuresDir(run.id), { recursive: true, force: true });
    for (const name of readdirSync(this.logDir).filter((n) => n.startsWith(`${run.id}.`))) await rm(join(this.logDir, name), { force: true });
    return { deleted: true };
  }

  /** Stops the run going, if any, and waits for it to end (its log closed). */
  async close(): Promise<void> {
    const active = this.active;
    if (!active) return;
    active.controller.abort();
    await active.done;
  }

  /** Waits for the run going now to end (tests). */
  async settled(): Promise<void> {
    await this.active?.done;
  }

  private checkStart(body: unknown): { config: TrainConfig; id: string } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Expected a JSON object { config, name? } for the request body');
    const { config: given = {}, name } = body as Partial<StartRun>;
    if (typeof given !== 'object' || given === null || Array.isArray(given)) throw badRequest('Expected an object of training settings for config');
    for (const key of Object.keys(given)) {
      if (!Object.hasOwn(DEFAULTS, key)) throw badRequest(`Unknown training setting config.${key.slice(0, 60)}; the settings are ${Object.keys(DEFAULTS).join(', ')}`);
    }
    if ((given as Partial<TrainConfig>).cacheDir !== undefined) throw badRequest('config.cacheDir is the project\'s own (.graft/cache); leave it out');
    let config: TrainConfig;
    try {
      const model = (given as Partial<TrainConfig>).model ?? BUNDLED_BACKBONE;
      checkBackbone(model);
      config = resolveConfig({ ...given, model, cacheDir: this.project.folder.cache('cache') });
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    let id: string;
    if (name !== undefined) {
      if (typeof name !== 'string' || !RUN_ID.test(name)) throw badRequest(`Expected a run name of letters, digits, ".", "_" and "-" (at most 64) for name but received ${quoted(name)}`);
      if (this.runs.has(name) || existsSync(join(this.project.folder.runsDir, name))) throw conflict(`a run named ${quoted(name)} exists already`);
      id = name;
    } else {
      do id = newRunId(); while (this.runs.has(id) || existsSync(join(this.project.folder.runsDir, id)));
    }
    return { config, id };
  }

  private async train(record: RunRecord, log: RunLog, signal: AbortSignal): Promise<void> {
    let lastProgress = 0;
    const dataDir = this.project.folder.dataDir;
    const onEvent = (e: TrainEvent) => {
      for (const update of record.apply(e)) {
        log.update(update);
        this.hub.publish(record.event(update));
      }
      if (e.type === 'dataset') log.classes(e.classes);
      if (e.type === 'skip') {
        const rel = relative(dataDir, e.file);
        if (!rel.startsWith('..') && !isAbsolute(rel)) this.project.markBad(this.project.index.idOf(e.file), e.reason);
      }
      const now = performance.now();
      if (e.type !== 'step' && e.type !== 'features' || now - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = now;
        this.publish(record);
      }
    };
    const out = join(this.project.folder.runsDir, record.id);
    try {
      // Yield first: the request that started the run is answered before training takes the loop's time.
      await new Promise((r) => setImmediate(r));
      const result = await train(dataDir, record.config, { out, signal, onEvent, runtime: this.runtime, title: `${this.project.folder.name} · ${record.id}` });
      await saveValidation(this.logDir, record.id, result.result, (file) => this.project.index.idOf(file));
      record.finish(result.result.stopped ? 'stopped' : 'done');
    } catch (e) {
      const aborted = e instanceof AbortError;
      if (!aborted) this.log(`graft ui: run ${record.id} failed: ${(e as Error).stack ?? e}`);
      record.finish(aborted ? 'stopped' : 'failed', aborted ? null : (e as Error).message);
    } finally {
      await this.onFolderChange(record.id).catch(() => undefined);
      await log.end(record);
      this.active = null;
      this.publish(record);
    }
  }

  private publish(record: RunRecord): void {
    this.hub.publish({ type: 'run', run: record.info() });
  }
}

/** A backbone to train on: a zoo name, or an ONNX or TF.js file that is there (GET /api/models lists them). */
function checkBackbone(model: unknown): void {
  if (typeof model !== 'string') return; // resolveConfig names the type
  const spec = parseModelSpec(model);
  if (spec.kind === 'folder') throw new RangeError(`Unknown backbone ${quoted(model)} for config.model: expected a zoo name, onnx:<file> or tfjs:<model.json> (GET /api/models lists them)`);
  const file = spec.kind === 'onnx' ? spec.file : spec.kind === 'tfjs' ? spec.modelJson : null;
  if (file !== null && !existsSync(file)) throw new RangeError(`No file ${quoted(file)} for config.model ${quoted(model)}`);
}

/** A model folder trained outside the web app (graft train --out runs/<name>), as a finished run. */
async function fromModelFolder(id: string, folder: string): Promise<RunRecord> {
  const manifest = JSON.parse(await readFile(join(folder, MANIFEST_FILE), 'utf8')) as ModelManifest;
  const config = resolveConfig({ ...(manifest.training as Partial<TrainConfig>) });
  const run = new RunRecord(id, config, manifest.createdAt);
  run.classes = [...manifest.classes];
  for (const record of manifest.history as EpochRecord[]) run.history.push(record);
  const m = manifest.metrics as { best_val_acc?: number; best_epoch?: number };
  run.bestAcc = m.best_val_acc ?? null;
  run.bestEpoch = m.best_epoch ?? null;
  run.finish('done', null, manifest.createdAt);
  return run;
}

