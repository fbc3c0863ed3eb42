import { splitAtHead, type Staged } from '../models/stages.ts';
import type { Module } from '../nn/module.ts';
import { sha256 } from './feature-cache.ts';

/** A digest of modules' weights, key by key: equal digests mean the modules compute the same function. */
export function weightsDigest(modules: Iterable<Module>): string {
  const h: string[] = [];
  for (const m of modules) for (const [k, v] of m.stateDict()) {
    h.push(k, sha256(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength)));
  }
  return sha256(h.join('|'));
}

/** A digest of the frozen backbone's weights: part of the feature cache's key and of a features folder's manifest. */
export function backboneDigest(model: Staged): string {
  return weightsDigest(splitAtHead(model.stages()).backbone.flatMap((s) => [...s.modules]));
}
