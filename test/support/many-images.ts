import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/**
 * A project's data folder of `perClass` small JPEGs in each of `classes` classes (class-0 ...),
 * for the web app at scale: a handful of distinct images per class, each written under many
 * names, so 20,000 files take seconds to make. The same arguments give the same bytes.
 */
export async function manyImages(dataDir: string, classes: number, perClass: number, size = 48): Promise<number> {
  const DISTINCT = 8;
  for (let c = 0; c < classes; c++) {
    const folder = join(dataDir, `class-${c}`);
    mkdirSync(folder, { recursive: true });
    const variants: Buffer[] = [];
    for (let v = 0; v < DISTINCT; v++) {
      const px = Buffer.alloc(size * size * 3);
      for (let p = 0; p < size * size; p++) {
        const x = p % size;
        const y = Math.floor(p / size);
        px[p * 3] = (c * 25 + x * 3) & 255;
        px[p * 3 + 1] = (v * 30 + y * 3) & 255;
        px[p * 3 + 2] = ((x ^ y) * 4 + c * 10) & 255;
      }
      variants.push(await sharp(px, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 80 }).toBuffer());
    }
    for (let i = 0; i < perClass; i++) writeFileSync(join(folder, `img-${String(i).padStart(5, '0')}.jpg`), variants[i % DISTINCT]);
  }
  return classes * perClass;
}
