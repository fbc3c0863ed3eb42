import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/**
 * A two-class dataset generated here: small noisy PNGs around a warm or a cool grey, every tenth
 * one filed under the other class, so no head reaches an accuracy of 1 (which would compare
 * nothing), and any size costs no download. The same arguments give the same bytes.
 */
export async function colorDataset(dir: string, perClass: { train: number; val: number }, size = 32): Promise<string> {
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (const split of ['train', 'val'] as const) {
    for (const [cls, base, other] of [['warm', [140, 115, 105], 'cool'], ['cool', [115, 115, 140], 'warm']] as const) {
      for (let i = 0; i < perClass[split]; i++) {
        const folder = join(dir, split, i % 10 === 0 ? other : cls);
        mkdirSync(folder, { recursive: true });
        const px = Buffer.alloc(size * size * 3);
        for (let p = 0; p < px.length; p++) px[p] = Math.max(0, Math.min(255, base[p % 3] + (next() - 0.5) * 255));
        await sharp(px, { raw: { width: size, height: size, channels: 3 } }).png().toFile(join(folder, `${cls}-${String(i).padStart(4, '0')}.png`));
      }
    }
  }
  return dir;
}
