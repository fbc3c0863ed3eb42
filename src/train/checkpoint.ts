import { mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StateDict } from '../nn/state-dict.ts';
import { readSafetensorsBuffer, readSafetensorsMetadata, writeSafetensors } from '../formats/safetensors.ts';
import type { OptimizerStateDict } from '../optim/index.ts';

/** Everything a run needs to continue after its last completed epoch. */
export interface Checkpoint {
  /** The last completed epoch (0-based). */
  epoch: number;
  model: StateDict;
  best: StateDict;
  optimizer: OptimizerStateDict;
  scheduler: Record<string, unknown> | null;
  trainer: Record<string, unknown>;
}

export const checkpointPath = (dir: string) => join(dir, 'checkpoint.safetensors');

/**
 * One file, written to a temporary name and renamed: a run killed at any moment leaves either the
 * previous checkpoint or the new one, whole. Tensors (weights, best weights, optimizer buffers)
 * are safetensors entries; everything else rides in its metadata as JSON.
 */
export async function saveCheckpoint(dir: string, c: Checkpoint): Promise<void> {
  await mkdir(dir, { recursive: true });
  const sd: StateDict = new Map();
  for (const [k, v] of c.model) sd.set(`model.${k}`, v);
  for (const [k, v] of c.best) sd.set(`best.${k}`, v);
  const optimizerState: Record<string, Record<string, number | null | 'tensor'>> = {};
  for (const [idx, st] of Object.entries(c.optimizer.state)) {
    optimizerState[idx] = {};
    for (const [key, v] of Object.entries(st)) {
      if (v instanceof Float32Array) {
        sd.set(`optim.${idx}.${key}`, { dtype: 'float32', shape: [v.length], data: v });
        optimizerState[idx][key] = 'tensor';
      } else optimizerState[idx][key] = v;
    }
  }
  const meta = { epoch: c.epoch, optimizer: { state: optimizerState, param_groups: c.optimizer.param_groups }, scheduler: c.scheduler, trainer: c.trainer };
  await writeSafetensors(checkpointPath(dir), sd, { graft_checkpoint: JSON.stringify(meta) });
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint | null> {
  const file = checkpointPath(dir);
  if (!existsSync(file)) return null;
  const bytes = await readFile(file);
  const sd = readSafetensorsBuffer(bytes, file);
  const raw = readSafetensorsMetadata(bytes, file).graft_checkpoint;
  if (!raw) throw new Error(`${file} is not a graft checkpoint (no graft_checkpoint metadata)`);
  const meta = JSON.parse(raw) as { epoch: number; optimizer: { state: Record<string, Record<string, number | null | 'tensor'>>; param_groups: Record<string, unknown>[] }; scheduler: Record<string, unknown> | null; trainer: Record<string, unknown> };
  const pick = (prefix: string): StateDict => new Map([...sd].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  const state: OptimizerStateDict['state'] = {};
  for (const [idx, st] of Object.entries(meta.optimizer.state)) {
    state[idx] = {};
    for (const [key, v] of Object.entries(st)) {
      if (v === 'tensor') {
        const t = sd.get(`optim.${idx}.${key}`);
        if (!t || t.dtype !== 'float32') throw new Error(`${file}: optimizer buffer optim.${idx}.${key} is missing`);
        state[idx][key] = t.data;
      } else state[idx][key] = v;
    }
  }
  return {
    epoch: meta.epoch, model: pick('model.'), best: pick('best.'),
    optimizer: { state, param_groups: meta.optimizer.param_groups }, scheduler: meta.scheduler, trainer: meta.trainer,
  };
}
