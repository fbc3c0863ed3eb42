import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { decodeImage, evalPreset, IMAGENET_MEAN, IMAGENET_STD, type ImageTensor } from '../src/data/index.ts';

/**
 * Pixel parity with torchvision: Resize(256) + CenterCrop(224) + ToTensor + Normalize on the
 * same decoded picture. Goldens come from scripts/make_data_fixtures.py (run it with a Python
 * that has torchvision to regenerate them).
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'data');
const shared = path.resolve(repoRoot, '..', 'shared');
const TOLERANCE = 1.5 / 255;

interface GoldenEntry {
  shape: [number, number, number];
  channelMeans: number[];
  full?: string;
  blockMeans8?: number[];
}
const goldens: { images: Record<string, GoldenEntry> } = JSON.parse(readFileSync(path.join(fixtures, 'goldens.json'), 'utf8'));

/** Undoes the planar left + up - upleft predictor the generator applied before compressing. */
function readGolden(file: string): Uint8Array {
  const r = inflateSync(readFileSync(path.join(fixtures, file)));
  const out = new Uint8Array(r.length);
  const [h, w] = [224, 224];
  for (let c = 0; c < 3; c++) {
    const base = c * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = base + y * w + x;
        const left = x > 0 ? out[i - 1] : 0;
        const up = y > 0 ? out[i - w] : 0;
        const upLeft = x > 0 && y > 0 ? out[i - w - 1] : 0;
        const pred = x > 0 && y > 0 ? left + up - upLeft : x > 0 ? left : up;
        out[i] = (r[i] + pred) & 0xff;
      }
    }
  }
  return out;
}

/** Mean absolute difference in units of the [0, 1] pixel range (Normalize's std undone). */
function meanAbsPixelDiff(ours: ImageTensor, golden: Uint8Array): number {
  const plane = 224 * 224;
  let sum = 0;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const theirs = (golden[c * plane + i] / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
      sum += Math.abs(ours.data[c * plane + i] - theirs) * IMAGENET_STD[c];
    }
  }
  return sum / (3 * plane);
}

function meanAbsBlockDiff(ours: ImageTensor, blocks: number[]): number {
  let sum = 0;
  for (let c = 0; c < 3; c++) {
    for (let by = 0; by < 28; by++) {
      for (let bx = 0; bx < 28; bx++) {
        let s = 0;
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++) {
            s += ours.data[c * 224 * 224 + (by * 8 + y) * 224 + bx * 8 + x] * IMAGENET_STD[c] + IMAGENET_MEAN[c];
          }
        }
        sum += Math.abs(s / 64 - blocks[(c * 28 + by) * 28 + bx] / 255);
      }
    }
  }
  return sum / blocks.length;
}

async function check(file: string, entry: GoldenEntry): Promise<number> {
  const ours = evalPreset().apply(await decodeImage(file)) as ImageTensor;
  assert.deepEqual([ours.channels, ours.height, ours.width], entry.shape);
  for (let c = 0; c < 3; c++) {
    let m = 0;
    for (let i = 0; i < 224 * 224; i++) m += ours.data[c * 224 * 224 + i];
    assert.ok(Math.abs(m / (224 * 224) - entry.channelMeans[c]) < 0.02, `${file}: channel ${c} mean ${m / 50176} vs ${entry.channelMeans[c]}`);
  }
  const diff = entry.full ? meanAbsPixelDiff(ours, readGolden(entry.full)) : meanAbsBlockDiff(ours, entry.blockMeans8!);
  assert.ok(diff <= TOLERANCE, `${file}: mean abs difference ${(diff * 255).toFixed(3)}/255 exceeds 1.5/255`);
  return diff;
}

for (const [key, entry] of Object.entries(goldens.images)) {
  const [group, name] = key.split('/');
  const file = group === 'fixtures' ? path.join(fixtures, 'images', name) : path.join(shared, 'images', name);
  const skip = group === 'shared' && !existsSync(file) ? 'needs ../shared' : false;
  test(`eval transform matches torchvision on ${key}${entry.full ? '' : ' (8x8 block means)'}`, { skip }, async (t) => {
    const diff = await check(file, entry);
    t.diagnostic(`mean abs ${(diff * 255).toFixed(6)}/255`);
  });
}
