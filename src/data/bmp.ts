import { rgbImage, type RgbImage } from './image.ts';

/**
 * A bounds-checked decoder for uncompressed Windows bitmaps (1/4/8-bit palette, 16/24/32-bit,
 * BI_RGB or BI_BITFIELDS). libvips has no BMP loader and PIL, which torchvision uses, does;
 * every offset is checked against the buffer so a corrupt header fails with a message, never
 * reads out of range.
 */
export class BmpError extends Error {
  override name = 'BmpError';
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  dataOffset: number;
  headerSize: number;
  paletteSize: number;
  masks: [number, number, number] | null;
}

export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  if (!isBmp(bytes)) throw new BmpError('not a BMP file (missing "BM" signature)');
  if (bytes.length < 26) throw new BmpError(`truncated BMP header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize !== 12 && headerSize < 40) throw new BmpError(`unsupported BMP header size ${headerSize}`);
  if (14 + headerSize > bytes.length) throw new BmpError('truncated BMP info header');
  let width: number, rawHeight: number, bitsPerPixel: number, compression = BI_RGB, colorsUsed = 0;
  if (headerSize === 12) {
    width = view.getUint16(18, true);
    rawHeight = view.getInt16(20, true);
    bitsPerPixel = view.getUint16(24, true);
  } else {
    width = view.getInt32(18, true);
    rawHeight = view.getInt32(22, true);
    bitsPerPixel = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    colorsUsed = view.getUint32(46, true);
  }
  if (width <= 0 || rawHeight === 0) throw new BmpError(`invalid BMP dimensions ${width}x${rawHeight}`);
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) throw new BmpError(`unsupported BMP bit depth ${bitsPerPixel}`);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new BmpError(`unsupported BMP compression ${compression} (only uncompressed bitmaps are read)`);
  }
  let masks: [number, number, number] | null = null;
  if (compression !== BI_RGB) {
    // Masks follow a 40-byte header, or sit inside a V4/V5 header at the same offset.
    if (14 + 40 + 12 > bytes.length) throw new BmpError('truncated BMP bit masks');
    masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)];
  } else if (bitsPerPixel === 16) {
    masks = [0x7c00, 0x03e0, 0x001f];
  }
  const paletteSize = bitsPerPixel <= 8 ? (colorsUsed || 1 << bitsPerPixel) : 0;
  if (paletteSize > 1 << bitsPerPixel) throw new BmpError(`invalid BMP palette size ${paletteSize}`);
  return {
    width, height: Math.abs(rawHeight), topDown: rawHeight < 0, bitsPerPixel, compression,
    dataOffset, headerSize, paletteSize, masks,
  };
}

export function decodeBmp(bytes: Uint8Array, maxPixels = Infinity): RgbImage {
  const h = readBmpHeader(bytes);
  if (h.width * h.height > maxPixels) {
    throw new BmpError(`image of ${h.width}x${h.height} pixels exceeds the pixel limit of ${maxPixels}`);
  }
  const stride = Math.ceil((h.width * h.bitsPerPixel) / 32) * 4;
  if (h.dataOffset + stride * h.height > bytes.length) {
    throw new BmpError(`truncated BMP pixel data: need ${h.dataOffset + stride * h.height} bytes, file has ${bytes.length}`);
  }
  const out = rgbImage(h.width, h.height);
  const palette = h.bitsPerPixel <= 8 ? readPalette(bytes, h) : null;
  for (let y = 0; y < h.height; y++) {
    const srcRow = h.dataOffset + stride * (h.topDown ? y : h.height - 1 - y);
    const dst = y * h.width * 3;
    if (palette) decodePaletteRow(bytes, srcRow, h.width, h.bitsPerPixel, palette, out.data, dst);
    else if (h.masks) decodeMaskedRow(bytes, srcRow, h.width, h.bitsPerPixel, h.masks, out.data, dst);
    else decodeBgrRow(bytes, srcRow, h.width, h.bitsPerPixel / 8, out.data, dst);
  }
  return out;
}

function readPalette(bytes: Uint8Array, h: BmpHeader): Uint8Array {
  const entry = h.headerSize === 12 ? 3 : 4;
  const start = 14 + h.headerSize + (h.compression === BI_BITFIELDS && h.headerSize === 40 ? 12 : 0);
  if (start + entry * h.paletteSize > bytes.length) throw new BmpError('truncated BMP palette');
  // Indices past the palette read as black, as PIL does, instead of out of range.
  const rgb = new Uint8Array(256 * 3);
  for (let i = 0; i < h.paletteSize; i++) {
    const p = start + i * entry;
    rgb[i * 3] = bytes[p + 2];
    rgb[i * 3 + 1] = bytes[p + 1];
    rgb[i * 3 + 2] = bytes[p];
  }
  return rgb;
}

function decodePaletteRow(src: Uint8Array, at: number, width: number, bits: number, palette: Uint8Array, dst: Uint8Array, to: number): void {
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  for (let x = 0; x < width; x++) {
    const byte = src[at + Math.floor(x / perByte)];
    const shift = 8 - bits * ((x % perByte) + 1);
    const index = (byte >> shift) & mask;
    dst[to + x * 3] = palette[index * 3];
    dst[to + x * 3 + 1] = palette[index * 3 + 1];
    dst[to + x * 3 + 2] = palette[index * 3 + 2];
  }
}

function decodeBgrRow(src: Uint8Array, at: number, width: number, bytesPerPixel: number, dst: Uint8Array, to: number): void {
  for (let x = 0; x < width; x++) {
    const p = at + x * bytesPerPixel;
    dst[to + x * 3] = src[p + 2];
    dst[to + x * 3 + 1] = src[p + 1];
    dst[to + x * 3 + 2] = src[p];
  }
}

function decodeMaskedRow(src: Uint8Array, at: number, width: number, bits: number, masks: [number, number, number], dst: Uint8Array, to: number): void {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const channels = masks.map(maskShape);
  for (let x = 0; x < width; x++) {
    const pixel = bits === 16 ? view.getUint16(at + x * 2, true) : bits === 32 ? view.getUint32(at + x * 4, true)
      : src[at + x * 3] | (src[at + x * 3 + 1] << 8) | (src[at + x * 3 + 2] << 16);
    for (let c = 0; c < 3; c++) {
      const { mask, shift, max } = channels[c];
      dst[to + x * 3 + c] = max === 0 ? 0 : Math.round((((pixel & mask) >>> 0) >>> shift) * 255 / max);
    }
  }
}

function maskShape(mask: number): { mask: number; shift: number; max: number } {
  if (mask === 0) return { mask, shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { mask, shift, max: mask >>> shift };
}
