import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { decodeImage, DecodeError, readImageSize } from '../data/decode.ts';
import { IMG_EXTENSIONS } from '../data/datasets/image-folder.ts';
import type { PixelBudget } from '../data/pixel-budget.ts';
import { componentProblem, isImageName } from './names.ts';

/**
 * The name an uploaded file is stored under, or why it is refused. A folder upload sends
 * relative paths (`photos/ants/1.jpg`): only the last component is kept. A name with a `..` or
 * `.` component anywhere is refused outright rather than reduced: it is not what a browser sends.
 */
export function uploadName(filename: string): { name: string } | { reason: string } {
  const parts = filename.split(/[\\/]/);
  if (parts.some((p) => p === '..' || p === '.')) return { reason: 'the name leaves its folder (a ".." or "." component)' };
  if (filename.startsWith('/') || /^[A-Za-z]:[\\/]/.test(filename)) return { reason: 'an absolute path' };
  const name = parts[parts.length - 1];
  const problem = componentProblem(name);
  if (problem) return { reason: problem };
  if (!isImageName(name)) return { reason: `not an image file name (the extensions read: ${IMG_EXTENSIONS.join(', ')})` };
  return { name };
}

/**
 * Why the bytes cannot be added as an image, or null: the pixel count is read from the header
 * and checked before the pixels are decoded, then the image is decoded once (within that limit)
 * so a file whose header is fine but whose data is not is refused now, not during training.
 * Decodes of all uploads at once share `budget`, so parallel uploads of large photos hold a
 * bounded number of decoded pixels.
 */
export async function imageProblem(bytes: Uint8Array, maxPixels: number, budget: PixelBudget): Promise<string | null> {
  const size = await imageSize(bytes, maxPixels);
  if ('problem' in size) return size.problem;
  try {
    await budget.use(size.pixels, () => decodeImage(bytes, { maxPixels }));
    return null;
  } catch (error) {
    if (error instanceof DecodeError) return `cannot be decoded: ${error.reason}`;
    throw error;
  }
}

/** The image's pixel count from its header, or why it is refused: not an image, or over `maxPixels`. */
export async function imageSize(bytes: Uint8Array, maxPixels: number): Promise<{ pixels: number } | { problem: string; tooLarge?: true }> {
  if (bytes.length === 0) return { problem: 'an empty file' };
  try {
    // Reading the header allocates nothing per pixel, so it runs without the decoder's limit and says how far over it is.
    const { width, height } = await readImageSize(bytes, { maxPixels: Number.MAX_SAFE_INTEGER });
    if (width * height > maxPixels) return { problem: `${width} x ${height} = ${width * height} pixels, more than the ${maxPixels} accepted`, tooLarge: true };
    return { pixels: width * height };
  } catch (error) {
    if (error instanceof DecodeError) return { problem: `cannot be decoded: ${error.reason}` };
    throw error;
  }
}

/** `name` in `dir`, or `stem-1.ext`, `stem-2.ext`, ... when that is taken on disk or by a write under way. */
export function freeName(dir: string, name: string, reserved: ReadonlySet<string>): string {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? name : `${stem}-${i}${ext}`;
    const path = join(dir, candidate);
    if (!reserved.has(path) && !existsSync(path)) return candidate;
  }
}
