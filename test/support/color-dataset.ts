import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/**
 * A two-class dataset generated here: small PNGs of strong noise around a slightly warm or a
 * slightly cool grey, close enough that a head on a frozen backbone makes some mistakes (an
 * accuracy of 1 would compare nothing), and any size costs no download. The same arguments give
 * the same bytes.
 */
export async function colorDataset(dir: string, perClass: { train: number; val: number }, size = 32): Promise<string> {
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (const split of ['train', 'val'] as const) {
    for (const [cls, base] of [['warm', [140, 115, 105]], ['cool', [115, 115, 140]]] as const) {
      const folder = join(dir, split, cls);
      mkdirSync(folder, { recursive: true });
      for (let i = 0; i < perClass[split]; i++) {
        const px = Buffer.alloc(size * size * 3);
        for (let p = 0; p < px.length; p++) px[p] = Math.max(0, Math.min(255, base[p % 3] + (next() - 0.5) * 255));
        await sharp(px, { raw: { width: size, height: size, channels: 3 } }).png().toFile(join(folder, `${cls}-${String(i).padStart(4, '0')}.png`));
      }
    }
  }
  return dir;
}
