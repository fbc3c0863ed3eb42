import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { BmpError, decodeBmp, decodeImage, DecodeError, readImageSize } from '../src/data/index.ts';
import { readJpegHeader } from '../src/data/jpeg-header.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'data');
const image = (name: string) => path.join(fixtures, 'images', name);
const bad = (name: string) => path.join(fixtures, 'bad', name);

describe('decodeImage', () => {
  test('every fixture format decodes to 8-bit RGB', async () => {
    const sizes: Record<string, [number, number]> = {
      'rgb.jpg': [300, 200], 'cmyk.jpg': [220, 160], 'gray.jpg': [300, 200], 'palette.png': [120, 90], 'alpha.png': [120, 90],
      'gray-alpha.png': [120, 90], 'rgb16.png': [120, 90], 'gray16.png': [120, 90], 'frames.gif': [120, 90], 'lossy.webp': [200, 140],
      'deflate.tiff': [120, 90], 'rgb24.bmp': [64, 40], 'rgba32.bmp': [60, 44], 'palette8.bmp': [66, 42],
    };
    for (const [name, [w, h]] of Object.entries(sizes)) {
      const img = await decodeImage(image(name));
      assert.deepEqual([img.width, img.height, img.data.length], [w, h, w * h * 3], name);
    }
  });

  test('EXIF orientation is applied: a landscape stored with orientation 6 comes out portrait', async () => {
    const img = await decodeImage(image('exif-rotate90.jpg'));
    assert.deepEqual([img.width, img.height], [180, 280]);
    assert.deepEqual(await readImageSize(image('exif-rotate90.jpg')), { width: 180, height: 280 });
  });

  test('grayscale becomes three equal channels; 16-bit keeps its high byte', async () => {
    const gray = await decodeImage(image('gray16.png'));
    const { data } = await sharp(image('gray16.png')).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    const sixteen = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    for (let i = 0; i < 50; i++) {
      assert.equal(gray.data[i * 3], gray.data[i * 3 + 1]);
      assert.ok(Math.abs(gray.data[i * 3] - sixteen[i] / 257) <= 1, `pixel ${i}`);
    }
  });

  test('the first GIF frame is the one decoded', async () => {
    const gif = await decodeImage(image('frames.gif'));
    const png = await decodeImage(image('palette.png'));
    let diff = 0;
    for (let i = 0; i < gif.data.length; i++) diff += Math.abs(gif.data[i] - png.data[i]);
    assert.ok(diff / gif.data.length < 8, 'first frame is the original, the second its inverse');
  });

  test('bad files fail with a DecodeError naming the file and the reason', async () => {
    const reasons: Record<string, RegExp> = {
      'zero-byte.jpg': /empty file/,
      'truncated.jpg': /./,
      'corrupt.png': /./,
      'not-an-image.jpg': /not an image/,
      'huge-dimensions.png': /pixel limit/,
      'truncated.bmp': /truncated BMP/,
    };
    for (const [name, reason] of Object.entries(reasons)) {
      await assert.rejects(decodeImage(bad(name)), (e: unknown) => {
        assert.ok(e instanceof DecodeError, `${name}: ${e}`);
        assert.equal(e.file, bad(name));
        assert.match(e.reason, reason, name);
        assert.ok(e.message.includes(name));
        return true;
      });
    }
    await assert.rejects(decodeImage(bad('missing.jpg')), /file not found/);
  });

  test('content decides the format, not the extension: a PNG named .jpg decodes', async () => {
    const img = await decodeImage(bad('png-named.jpg'));
    assert.deepEqual([img.width, img.height], [48, 36]);
  });

  test('the pixel limit is configurable', async () => {
    await assert.rejects(decodeImage(image('rgb.jpg'), { maxPixels: 1000 }), /pixel limit/);
    await assert.rejects(decodeImage(image('rgb24.bmp'), { maxPixels: 1000 }), /exceeds the pixel limit of 1000/);
  });

  test('a crop-and-resize plan runs inside the decoder and stays close to the exact resampler', async () => {
    const full = await decodeImage(image('rgb.jpg'));
    const region = { left: 20, top: 10, width: 200, height: 150 };
    const native = await decodeImage(image('rgb.jpg'), { cropResize: () => ({ region, width: 100, height: 75 }) });
    const { resample } = await import('../src/data/index.ts');
    const exact = resample(full, 100, 75, 'bilinear', region);
    let diff = 0;
    for (let i = 0; i < exact.data.length; i++) diff += Math.abs(exact.data[i] - native.data[i]);
    assert.ok(diff / exact.data.length < 2, `mean abs ${diff / exact.data.length} levels`);
  });
});

describe('BMP decoder', () => {
  test('matches sharp on the same pixels saved as PNG', async () => {
    const bmp = decodeBmp(readFileSync(image('rgb24.bmp')));
    const viaPng = await sharp(Buffer.from(bmp.data), { raw: { width: bmp.width, height: bmp.height, channels: 3 } }).png().toBuffer();
    const back = await decodeImage(viaPng);
    assert.deepEqual(back.data, bmp.data);
  });

  test('mutated headers fail with BmpError, never out of bounds', () => {
    const original = readFileSync(image('palette8.bmp'));
    let seed = 1;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 500; i++) {
      const bytes = Uint8Array.from(original);
      for (let k = 0; k < 3; k++) bytes[2 + (next() % 60)] = next() & 0xff;
      const cut = bytes.subarray(0, next() % 2 ? bytes.length : next() % bytes.length);
      try {
        decodeBmp(cut);
      } catch (e) {
        assert.ok(e instanceof BmpError, `mutation ${i}: ${e}`);
      }
    }
  });
});

describe('JPEG header probe', () => {
  test('size, components and orientation agree with libvips', async () => {
    for (const name of readdirSync(path.join(fixtures, 'images')).filter((n) => n.endsWith('.jpg'))) {
      const bytes = readFileSync(image(name));
      const h = readJpegHeader(bytes)!;
      const meta = await sharp(bytes).metadata();
      assert.deepEqual([h.width, h.height, h.components, h.orientation], [meta.width, meta.height, meta.channels, meta.orientation ?? 1], name);
    }
    assert.equal(readJpegHeader(readFileSync(bad('truncated.jpg')).subarray(0, 30)), null);
  });
});
