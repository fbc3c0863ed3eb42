import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImageFile } from '../data/decode.ts';
import { writeFileAtomic } from '../formats/atomic-write.ts';
import type { IndexedImage } from './data-index.ts';

export const THUMB_SIZE = 160;

/** A thumbnail that could not be made: the image cannot be decoded, and `reason` says why. */
export class ThumbnailError extends Error {
  override name = 'ThumbnailError';
  constructor(readonly id: string, readonly reason: string) {
    super(`Cannot make a thumbnail of ${id}: ${reason}`);
  }
}

/**
 * Thumbnails made once by sharp (WebP, at most 160 px a side, EXIF orientation applied) and
 * cached as files named by the image's id, mtime and size, so a changed file gets a new one and
 * the same file is never encoded twice; requests for one that is being made wait for it.
 */
export class Thumbnails {
  private readonly making = new Map<string, Promise<Buffer>>();

  constructor(private readonly dir: string, private readonly maxPixels: number) {}

  /** The cache file of an image's thumbnail, whether or not it exists yet. */
  file(image: Pick<IndexedImage, 'id' | 'mtimeMs' | 'bytes'>): string {
    const key = createHash('sha256').update(`${image.id}\0${image.mtimeMs}\0${image.bytes}`).digest('hex').slice(0, 32);
    return join(this.dir, `${key}.webp`);
  }

  async get(image: IndexedImage): Promise<Buffer> {
    const file = this.file(image);
    const cached = await readFile(file).catch(() => null);
    if (cached) return cached;
    let pending = this.making.get(file);
    if (!pending) {
      pending = this.make(image, file).finally(() => this.making.delete(file));
      this.making.set(file, pending);
    }
    return pending;
  }

  private async make(image: IndexedImage, file: string): Promise<Buffer> {
    let webp: Buffer;
    try {
      const bytes = await readImageFile(image.path);
      webp = await sharp(bytes, { limitInputPixels: this.maxPixels, failOn: 'error', pages: 1 })
        .autoOrient()
        .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 75 })
        .toBuffer();
    } catch (error) {
      const message = (error as { reason?: string; message: string }).reason ?? (error as Error).message.split('\n')[0];
      throw new ThumbnailError(image.id, /unsupported image format/i.test(message) ? 'not an image, or a format that cannot be read' : message);
    }
    await writeFileAtomic(file, [webp], { sync: false });
    return webp;
  }
}
