import { invalidParameter, invalidType, received } from '../errors/index.ts';

/** A decoded picture: 8-bit RGB, interleaved, row-major (what PIL's "RGB" mode holds). */
export interface RgbImage {
  readonly kind: 'image';
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes, HWC. */
  readonly data: Uint8Array;
}

/** A float tensor in CHW layout, what ToTensor produces and Normalize consumes. */
export interface ImageTensor {
  readonly kind: 'tensor';
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
}

export type Sample = RgbImage | ImageTensor;

export function rgbImage(width: number, height: number, data?: Uint8Array): RgbImage {
  const size = width * height * 3;
  if (data && data.length !== size) {
    throw invalidParameter(`the data of a ${width}x${height} RGB image`, `${size} bytes`, received(`${data.length} bytes`));
  }
  return { kind: 'image', width, height, data: data ?? new Uint8Array(size) };
}

export function imageTensor(channels: number, height: number, width: number, data?: Float32Array): ImageTensor {
  return { kind: 'tensor', channels, height, width, data: data ?? new Float32Array(channels * height * width) };
}

export function expectImage(sample: Sample, transform: string): RgbImage {
  if (sample.kind !== 'image') throw invalidType(`the input of ${transform}`, 'an RgbImage (apply it before ToTensor)', received('an ImageTensor'));
  return sample;
}

export function expectTensor(sample: Sample, transform: string): ImageTensor {
  if (sample.kind !== 'tensor') throw invalidType(`the input of ${transform}`, 'an ImageTensor (apply ToTensor first)', received('an RgbImage'));
  return sample;
}
