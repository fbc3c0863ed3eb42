/**
 * A Hugging Face cache laid out as huggingface_hub writes it, in a temporary folder, holding one
 * timm checkpoint: `models--<org>--<name>/refs/main` naming a revision whose snapshot holds the
 * config.json and a model.safetensors of deterministic weights under the given keys.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { writeSafetensors } from '../../src/formats/safetensors.ts';
import { deterministicStateDict } from './deterministic.ts';

export const REVISION = '0123456789abcdef0123456789abcdef01234567';

/** Writes `repo` into the cache at `cache` (a new temporary one when omitted); returns the cache's folder. */
export async function writeHubCheckpoint(repo: string, config: unknown, keys: readonly (readonly [string, readonly number[]])[], cache?: string): Promise<string> {
  const root = cache ?? mkdtempSync(join(tmpdir(), 'graft-hub-'));
  const repoDir = join(root, `models--${repo.replace('/', '--')}`);
  const snapshot = join(repoDir, 'snapshots', REVISION);
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(repoDir, 'refs'), { recursive: true });
  writeFileSync(join(repoDir, 'refs', 'main'), REVISION);
  writeFileSync(join(snapshot, 'config.json'), JSON.stringify(config));
  await writeSafetensors(join(snapshot, 'model.safetensors'), deterministicStateDict(keys));
  return root;
}

/** Runs `fn` with HF_HUB_CACHE pointing at a new cache holding `repo`, then removes it. */
export async function withHubCheckpoint<T>(repo: string, config: unknown, keys: readonly (readonly [string, readonly number[]])[], fn: () => Promise<T>): Promise<T> {
  const home = await writeHubCheckpoint(repo, config, keys);
  const saved = { HF_HOME: process.env.HF_HOME, HF_HUB_CACHE: process.env.HF_HUB_CACHE };
  process.env.HF_HUB_CACHE = home;
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    rmSync(home, { recursive: true, force: true });
  }
}
