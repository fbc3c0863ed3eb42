/**
 * A large generated project for the web app's benchmark: small JPEGs in class folders, each class
 * a hue with noise and a shape, so a frozen backbone can tell them apart and a run is meaningful.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export interface GeneratedProject { dir: string; classes: string[]; images: number }

/** One image's pixels: the class's hue, the image's own noise, a square whose place varies. */
function pixels(classIndex: number, classes: number, imageIndex: number, size: number): Buffer {
  const out = Buffer.alloc(size * size * 3);
  const hue = (classIndex / classes) * 2 * Math.PI;
  const base = [Math.cos(hue), Math.cos(hue + 2.094), Math.cos(hue + 4.189)].map((c) => 128 + 90 * c);
  let state = (imageIndex * 2654435761 + classIndex * 97 + 1) >>> 0;
  const noise = () => {
    state = (Math.imul(state ^ (state >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return (state / 2 ** 32 - 0.5) * 60;
  };
  const side = size >> 2;
  const left = (imageIndex * 7) % (size - side);
  const top = (imageIndex * 13) % (size - side);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inSquare = x >= left && x < left + side && y >= top && y < top + side;
      for (let c = 0; c < 3; c++) {
        const v = inSquare ? 255 - base[c] : base[c];
        out[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v + noise())));
      }
    }
  }
  return out;
}

/** Writes `images` JPEGs spread evenly over `classes` folders under `<dir>/data/`. */
export async function generateProject(dir: string, opts: { images: number; classes: number; size?: number }): Promise<GeneratedProject> {
  const size = opts.size ?? 64;
  const classes = Array.from({ length: opts.classes }, (_, i) => `class_${String(i).padStart(2, '0')}`);
  for (const name of classes) mkdirSync(join(dir, 'data', name), { recursive: true });
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < opts.images; i++) {
    const k = i % opts.classes;
    const file = join(dir, 'data', classes[k], `img_${String(i).padStart(6, '0')}.jpg`);
    jobs.push(sharp(pixels(k, opts.classes, i, size), { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 85 }).toFile(file));
    if (jobs.length >= 64) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
  return { dir, classes, images: opts.images };
}
