import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { decodeBmp, isBmp, readBmpHeader, BmpError } from './bmp.ts';
import { checkInteger } from '../errors/index.ts';
import { rgbImage, type RgbImage } from './image.ts';
import { crop } from './transforms/crop.ts';
import { resample, type Region } from './transforms/resample.ts';
import { orientedSize, readJpegHeader } from './jpeg-header.ts';
import { readRegularFile, readRegularFileSync, UnreadableFileError } from './regular-file.ts';

/**
 * PIL refuses images above 2 * Image.MAX_IMAGE_PIXELS (89,478,485) as decompression bombs;
 * the same limit keeps one hostile header from allocating gigabytes here.
 */
export const DEFAULT_MAX_PIXELS = 178_956_970;

export interface DecodeOptions {
  /** Images with more pixels than this are refused before their pixels are decoded. */
  maxPixels?: number;
  /**
   * Given the image's size (after EXIF orientation), the box to crop and the size to resize it
   * to, done inside the decoder: libvips does it natively while decoding, several times faster
   * than resampling in JavaScript. Its antialiased linear kernel is close to, not identical with,
   * PIL's, so the loader uses it for random training crops only. A plan whose size is its
   * region's only crops.
   */
  cropResize?: (width: number, height: number) => CropResize;
  /**
   * Read the file synchronously. Meant for worker threads, where blocking costs nothing and
   * saves the four thread-pool round trips of an asynchronous read (open, stat, read, close).
   */
  syncRead?: boolean;
}

export interface CropResize {
  region: Region;
  width: number;
  height: number;
}

/** Why a file could not become an image; `file` names it so warnings and errors can say which. */
export class DecodeError extends Error {
  override name = 'DecodeError';
  constructor(readonly file: string, readonly reason: string) {
    super(`Cannot decode image ${file}: ${reason}`);
  }
}

/**
 * Decodes JPEG, PNG, GIF (first frame), BMP, WebP or TIFF into 8-bit RGB, as torchvision's
 * loader does with PIL's `convert("RGB")`, plus EXIF orientation: grayscale is replicated,
 * palettes expanded, alpha dropped (not composited, as PIL drops it), 16-bit reduced to 8-bit,
 * CMYK converted with PIL's formula rather than an ICC profile so pixels match torchvision.
 */
export async function decodeImage(source: string | Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  const maxPixels = checkInteger('maxPixels', options.maxPixels ?? DEFAULT_MAX_PIXELS, { min: 1 });
  const file = typeof source === 'string' ? source : '<buffer>';
  const bytes = typeof source !== 'string' ? source : await readImageFile(source, !!options.syncRead);
  if (bytes.length === 0) throw new DecodeError(file, 'empty file (0 bytes)');
  try {
    if (!isBmp(bytes)) return await decodeWithSharp(bytes, maxPixels, options.cropResize);
    const image = decodeBmp(bytes, maxPixels);
    if (!options.cropResize) return image;
    return cropAndResize(image, options.cropResize(image.width, image.height));
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw new DecodeError(file, describeFailure(error as Error));
  }
}

async function decodeWithSharp(bytes: Uint8Array, maxPixels: number, cropResize?: (width: number, height: number) => CropResize): Promise<RgbImage> {
  // ignoreIcc: PIL (so torchvision) ignores embedded profiles, and applying them costs more than the decode.
  const open = (sequentialRead = false) => sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', pages: 1, ignoreIcc: true, sequentialRead });
  const { width, height, cmyk, plainRgb } = await probe(bytes, open, maxPixels);
  const plan = cropResize?.(width, height);
  if (cmyk) {
    const image = cmykToRgb(await open().autoOrient().pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true }));
    return plan ? cropAndResize(image, plan) : image;
  }
  // Sequential access lets libvips stop decoding below the crop.
  let pipeline = open(!!plan);
  // An upright 3-channel JPEG is already what we want; skipping the no-op steps saves their setup.
  if (!plainRgb) pipeline = pipeline.autoOrient();
  if (plan) pipeline = pipeline.extract(plan.region);
  if (plan && !cropOnly(plan)) pipeline = pipeline.resize(plan.width, plan.height, { fit: 'fill', kernel: 'linear' });
  if (!plainRgb) pipeline = pipeline.removeAlpha().toColourspace('srgb');
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion to RGB`);
  return rgbImage(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** A plan whose output size is its region's: crop only, no resampling. */
function cropOnly(plan: CropResize): boolean {
  return plan.width === plan.region.width && plan.height === plan.region.height;
}

function cropAndResize(image: RgbImage, plan: CropResize): RgbImage {
  const { left, top, width, height } = plan.region;
  return cropOnly(plan) ? crop(image, top, left, height, width) : resample(image, plan.width, plan.height, 'bilinear', plan.region);
}

/** Oriented size and whether the pixels are CMYK: from the JPEG markers when possible, else libvips. */
async function probe(bytes: Uint8Array, open: () => Sharp, maxPixels: number): Promise<{ width: number; height: number; cmyk: boolean; plainRgb: boolean }> {
  const jpeg = readJpegHeader(bytes);
  if (jpeg && jpeg.width * jpeg.height <= maxPixels) {
    return { ...orientedSize(jpeg), cmyk: jpeg.components === 4, plainRgb: jpeg.components === 3 && jpeg.orientation === 1 };
  }
  const meta = await open().metadata();
  return { width: meta.autoOrient.width, height: meta.autoOrient.height, cmyk: meta.space === 'cmyk', plainRgb: false };
}

/** PIL's cmyk2rgb: each channel is (255 - K) scaled by (255 - C), with PIL's rounding division. */
function cmykToRgb({ data, info }: { data: Buffer; info: OutputInfo }): RgbImage {
  const out = rgbImage(info.width, info.height);
  const n = info.width * info.height;
  for (let i = 0; i < n; i++) {
    const nk = 255 - data[i * 4 + 3];
    for (let c = 0; c < 3; c++) out.data[i * 3 + c] = nk - muldiv255(data[i * 4 + c], nk);
  }
  return out;
}

function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** A file's bytes, when it is a regular file of an image's size; otherwise a DecodeError saying why not. */
export async function readImageFile(file: string, sync = false): Promise<Uint8Array> {
  try {
    return sync ? readRegularFileSync(file) : await readRegularFile(file);
  } catch (error) {
    if (error instanceof UnreadableFileError) throw new DecodeError(file, error.reason);
    throw new DecodeError(file, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message);
  }
}

/** Reads only the header: width and height after EXIF orientation. */
export async function readImageSize(source: string | Uint8Array, options: DecodeOptions = {}): Promise<{ width: number; height: number }> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const file = typeof source === 'string' ? source : '<buffer>';
  try {
    const bytes = typeof source === 'string' ? await readImageFile(source) : source;
    if (bytes.length === 0) throw new DecodeError(file, 'empty file (0 bytes)');
    if (isBmp(bytes)) return readBmpHeader(bytes);
    const meta = await sharp(bytes, { limitInputPixels: maxPixels }).metadata();
    return { width: meta.autoOrient.width, height: meta.autoOrient.height };
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw new DecodeError(file, describeFailure(error as Error));
  }
}

function describeFailure(error: Error): string {
  if (error instanceof BmpError) return error.message;
  const message = error.message.trim().split('\n')[0];
  if (/unsupported image format/i.test(message)) return 'not an image, or a format that cannot be read';
  if (/pixel limit/i.test(message)) return `${message} (decompression bomb guard; raise maxPixels to accept it)`;
  return message;
}
