/**
 * Builds the bundled sample dataset (assets/sample-data/hymenoptera-mini) from PyTorch's
 * transfer-learning tutorial data (ants vs bees): the first files of each class folder in
 * sorted order, resized so the shorter side is 256 px, re-encoded as JPEG.
 * usage: node --import tsx scripts/make_sample_dataset.ts <hymenoptera-root>
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const src = process.argv[2];
if (!src) throw new Error('usage: make_sample_dataset.ts <hymenoptera-root>');
const out = join(import.meta.dirname, '..', 'assets', 'sample-data', 'hymenoptera-mini');
const counts = { train: 40, val: 20 };
for (const [split, n] of Object.entries(counts)) {
  for (const cls of ['ants', 'bees']) {
    const dir = join(src, split, cls);
    const files = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, n);
    mkdirSync(join(out, split, cls), { recursive: true });
    for (const f of files) {
      await sharp(join(dir, f)).rotate().resize({ width: 256, height: 256, fit: 'outside', withoutEnlargement: true })
        .jpeg({ quality: 85 }).toFile(join(out, split, cls, f.replace(/\s+/g, '_').replace(/\.jpeg$/i, '.jpg')));
    }
  }
}
console.log(`wrote ${out}`);
