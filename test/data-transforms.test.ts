import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  adjustBrightness, adjustContrast, adjustHue, adjustSaturation, adjustSharpness, affine, applyOp, autocontrast, augmentationSpace,
  centerCrop, CenterCrop, ColorJitter, Compose, equalize, evalPreset, hflip, Normalize, posterize, RandomErasing,
  RandomHorizontalFlip, RandomResizedCrop, RandomRotation, resample, resampleInJavaScript, resize, Resize, resizedCrop, resizedSize, rgbImage, Rng, rotate,
  solarize, ToTensor, transformFromSpec, TrivialAugmentWide, TRIVIAL_AUGMENT_OPS, type ImageTensor, type RgbImage,
} from '../src/data/index.ts';
import { resampleKernelAvailable } from '../src/data/simd/resample.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'data');

function meanOf(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function noiseImage(width: number, height: number, seed = 1): RgbImage {
  const rng = new Rng(seed);
  const img = rgbImage(width, height);
  for (let i = 0; i < img.data.length; i++) img.data[i] = rng.int(0, 256);
  return img;
}

describe('Rng', () => {
  test('the same seed gives the same stream; nearby seeds give different ones', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 5 }, () => a.random());
    assert.deepEqual(xs, Array.from({ length: 5 }, () => b.random()));
    assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.random()));
    assert.notDeepEqual(new Rng([1, 0, 5]).random(), new Rng([1, 0, 6]).random());
  });

  test('uniform and int stay in range and are flat', () => {
    const rng = new Rng(7);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) {
      const u = rng.random();
      assert.ok(u >= 0 && u < 1);
      counts[rng.int(0, 10)]++;
    }
    for (const c of counts) assert.ok(Math.abs(c - 2000) < 200, `bucket count ${c}`);
    const p = rng.permutation(50);
    assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('torchvision functional ops match PIL goldens', () => {
  const goldens = JSON.parse(readFileSync(path.join(fixtures, 'op-goldens.json'), 'utf8'));
  const input = rgbImage(goldens.input.width, goldens.input.height, new Uint8Array(Buffer.from(goldens.input.rgb, 'base64')));
  const ops: Record<string, [(x: RgbImage) => RgbImage, number]> = {
    // [our op, allowed mean abs difference in levels]; PIL's own rounding differs in a few ops.
    'adjust_brightness(1.3)': [(x) => adjustBrightness(x, 1.3), 0],
    'adjust_contrast(0.6)': [(x) => adjustContrast(x, 0.6), 0],
    'adjust_saturation(1.7)': [(x) => adjustSaturation(x, 1.7), 0],
    'adjust_hue(0.2)': [(x) => adjustHue(x, 0.2), 1],
    'adjust_hue(-0.35)': [(x) => adjustHue(x, -0.35), 1],
    'adjust_sharpness(1.8)': [(x) => adjustSharpness(x, 1.8), 1],
    'posterize(3)': [(x) => posterize(x, 3), 0],
    'solarize(100)': [(x) => solarize(x, 100), 0],
    autocontrast: [autocontrast, 0],
    equalize: [equalize, 0],
    hflip: [(x) => hflip(x), 0],
    'rotate(30)': [(x) => rotate(x, 30), 0],
    'rotate(-75)': [(x) => rotate(x, -75), 0],
    'shear_x(0.3)': [(x) => applyOp(x, 'ShearX', 0.3), 0],
    'translate_y(-5)': [(x) => applyOp(x, 'TranslateY', -5), 0],
    'resized_crop(3,5,11,15,[10,12])': [(x) => resizedCrop(x, { top: 3, left: 5, height: 11, width: 15 }, [10, 12]), 0],
    'resize([13,29],bicubic)': [(x) => resize(x, [13, 29], 'bicubic'), 0],
    'center_crop(20)': [(x) => centerCrop(x, 20), 0],
  };
  for (const [name, [fn, tolerance]] of Object.entries(ops)) {
    test(name, () => {
      const want = goldens.ops[name];
      const got = fn(input);
      assert.deepEqual([got.width, got.height], [want.width, want.height]);
      const ref = Buffer.from(want.rgb, 'base64');
      let sum = 0;
      for (let i = 0; i < ref.length; i++) sum += Math.abs(ref[i] - got.data[i]);
      assert.ok(sum / ref.length <= tolerance, `${name}: mean abs difference ${(sum / ref.length).toFixed(3)} levels`);
    });
  }
});

describe('Resize and CenterCrop', () => {
  test('an int resizes the shorter side and truncates the longer, as torchvision', () => {
    assert.deepEqual(resizedSize(500, 375, 256), { width: 341, height: 256 });
    assert.deepEqual(resizedSize(375, 500, 256), { width: 256, height: 341 });
    assert.deepEqual(resizedSize(512, 929, 256), { width: 256, height: 464 });
    assert.deepEqual(resizedSize(500, 375, [100, 50]), { width: 50, height: 100 });
    assert.deepEqual(resizedSize(1000, 100, 50, 300), { width: 300, height: 30 });
  });

  test('center crop offsets round half to even; larger crops pad with black', () => {
    const img = noiseImage(7, 5);
    const c = centerCrop(img, [2, 4]); // top (5-2)/2 = 1.5 -> 2, left (7-4)/2 = 1.5 -> 2
    assert.deepEqual([...c.data.subarray(0, 3)], [...img.data.subarray((2 * 7 + 2) * 3, (2 * 7 + 2) * 3 + 3)]);
    const padded = centerCrop(img, 9);
    assert.equal(padded.width, 9);
    assert.deepEqual([...padded.data.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...padded.data.subarray((2 * 9 + 1) * 3, (2 * 9 + 1) * 3 + 3)], [...img.data.subarray(0, 3)]);
  });

  test('a crop-and-resize region gives the same pixels as cropping then resizing', () => {
    const img = noiseImage(40, 30);
    const box = { top: 4, left: 7, height: 20, width: 25 };
    const direct = resample(img, 16, 12, 'bilinear', box);
    const cropped = rgbImage(25, 20);
    for (let y = 0; y < 20; y++) cropped.data.set(img.data.subarray(((y + 4) * 40 + 7) * 3, ((y + 4) * 40 + 32) * 3), y * 25 * 3);
    assert.deepEqual(direct.data, resample(cropped, 16, 12).data);
  });

  test('invalid sizes are refused with the value named', () => {
    assert.throws(() => new CenterCrop(0), /Expected integer >= 1 for size but received 0/);
    assert.throws(() => new RandomResizedCrop(224, { scale: [0.9, 0.1] }), /Expected scale\[0\] <= scale\[1\] for scale/);
    assert.throws(() => new RandomErasing({ scale: [0.1, 1.5] }), /Expected number between 0 and 1 for scale\[1\] but received 1.5/);
    assert.throws(() => new Normalize([0.5, 0.5, 0.5], [0.2, 0, 0.2]), /std\[1\]/);
    assert.throws(() => new ToTensor().apply(new ToTensor().apply(noiseImage(2, 2))), /apply it before ToTensor/);
  });
});

describe('random transforms: reproducible, with torchvision parameter distributions', () => {
  test('RandomResizedCrop boxes: area fraction in scale, log aspect ratio uniform in log(ratio)', () => {
    const rng = new Rng(3);
    const areas: number[] = [];
    const logRatios: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const b = RandomResizedCrop.getParams(500, 400, [0.08, 1], [3 / 4, 4 / 3], rng);
      assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= 400 && b.left + b.width <= 500);
      areas.push((b.width * b.height) / (500 * 400));
      logRatios.push(Math.log(b.width / b.height));
    }
    assert.ok(Math.min(...areas) >= 0.07 && Math.max(...areas) <= 1.0);
    // torchvision 0.14's get_params on a 500x400 image, 4000 draws: mean area 0.453, mean log
    // ratio 0.030 (boxes taller than the image are rejected more often than wide ones).
    assert.ok(Math.abs(meanOf(areas) - 0.453) < 0.02, `mean area ${meanOf(areas)}`);
    assert.ok(Math.abs(meanOf(logRatios) - 0.030) < 0.015, `mean log ratio ${meanOf(logRatios)}`);
    assert.ok(Math.max(...logRatios) <= Math.log(4 / 3) + 0.02 && Math.min(...logRatios) >= Math.log(3 / 4) - 0.02);
  });

  test('RandomResizedCrop falls back to a central crop with the ratio clamped', () => {
    const b = RandomResizedCrop.getParams(300, 100, [1, 1], [1, 1], new Rng(0));
    assert.deepEqual(b, { top: 0, left: 100, height: 100, width: 100 });
  });

  test('RandomHorizontalFlip flips with probability p', () => {
    const img = noiseImage(5, 3);
    const flipped = hflip(img);
    const t = new RandomHorizontalFlip(0.3);
    const rng = new Rng(11);
    let n = 0;
    for (let i = 0; i < 4000; i++) if ((t.apply(img, rng) as RgbImage).data[0] === flipped.data[0] && img.data[0] !== flipped.data[0]) n++;
    assert.ok(Math.abs(n / 4000 - 0.3) < 0.03, `flip rate ${n / 4000}`);
  });

  test('ColorJitter draws a permutation and factors inside each range', () => {
    const rng = new Rng(5);
    const b: number[] = [];
    const h: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const p = ColorJitter.getParams([0.6, 1.4], [0.5, 1.5], null, [-0.1, 0.1], rng);
      assert.deepEqual([...p.order].sort(), [0, 1, 2, 3]);
      assert.equal(p.saturation, null);
      b.push(p.brightness!);
      h.push(p.hue!);
    }
    assert.ok(Math.min(...b) >= 0.6 && Math.max(...b) < 1.4 && Math.abs(meanOf(b) - 1) < 0.02);
    assert.ok(Math.min(...h) >= -0.1 && Math.max(...h) < 0.1 && Math.abs(meanOf(h)) < 0.005);
    const cj = new ColorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 });
    assert.deepEqual(cj.brightness, [0.6, 1.4]);
    assert.throws(() => new ColorJitter({ hue: 0.7 }), /Expected values between -0.5 and 0.5 for hue/);
  });

  test('RandomRotation angles are uniform in [-d, d]; rotating a square by 90 degrees transposes it', () => {
    const rng = new Rng(9);
    const angles = Array.from({ length: 3000 }, () => RandomRotation.getParams([-30, 30], rng));
    assert.ok(Math.min(...angles) >= -30 && Math.max(...angles) < 30 && Math.abs(meanOf(angles)) < 1);
    const img = noiseImage(6, 6);
    const r = rotate(img, 90); // counter-clockwise: out(x, y) = in(W - 1 - y, x)
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) assert.equal(r.data[(y * 6 + x) * 3], img.data[(x * 6 + (5 - y)) * 3]);
    assert.deepEqual(affine(img, {}).data, img.data);
  });

  test('RandomErasing boxes stay inside the tensor with area in scale; p = 0 never erases', () => {
    const rng = new Rng(2);
    const fractions: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const e = RandomErasing.getParams(3, 64, 48, [0.02, 0.33], [0.3, 3.3], 0, rng)!;
      assert.ok(e.top + e.height <= 64 && e.left + e.width <= 48);
      fractions.push((e.height * e.width) / (64 * 48));
    }
    assert.ok(Math.min(...fractions) >= 0.015 && Math.max(...fractions) <= 0.36);
    const t = new ToTensor().apply(noiseImage(8, 8));
    assert.equal(new RandomErasing({ p: 0 }).apply(t, rng), t);
    const erased = new RandomErasing({ p: 1, value: 'random' }).apply(t, rng) as ImageTensor;
    assert.notDeepEqual(erased.data, (t as ImageTensor).data);
  });

  test('TrivialAugmentWide draws every op alike and magnitudes from its bins', () => {
    const rng = new Rng(4);
    const counts = new Map<string, number>();
    const space = augmentationSpace(31);
    for (let i = 0; i < 7000; i++) {
      const { op, magnitude } = TrivialAugmentWide.getParams(31, rng);
      counts.set(op, (counts.get(op) ?? 0) + 1);
      const bins = space[op].magnitudes ?? [0];
      assert.ok(bins.some((m) => Math.abs(m - Math.abs(magnitude)) < 1e-9 || Math.abs(m - magnitude) < 1e-9), `${op} ${magnitude}`);
    }
    assert.equal(counts.size, TRIVIAL_AUGMENT_OPS.length);
    for (const c of counts.values()) assert.ok(Math.abs(c - 500) < 90, `op count ${c}`);
    assert.deepEqual(space.Posterize.magnitudes!.slice(0, 7), [8, 8, 8, 7, 7, 7, 7]);
  });

  test('a seeded pipeline is reproducible, and rebuilding it from its spec changes nothing', () => {
    const pipeline = new Compose([
      new RandomResizedCrop(32), new RandomHorizontalFlip(), new ColorJitter({ brightness: 0.4, hue: 0.1 }),
      new RandomRotation(20), new TrivialAugmentWide(), new ToTensor(), new Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
      new RandomErasing({ p: 1 }),
    ]);
    const img = noiseImage(64, 48);
    const a = pipeline.apply(img, new Rng(123)) as ImageTensor;
    const b = pipeline.apply(img, new Rng(123)) as ImageTensor;
    const c = transformFromSpec(JSON.parse(JSON.stringify(pipeline.spec()))).apply(img, new Rng(123)) as ImageTensor;
    const d = pipeline.apply(img, new Rng(124)) as ImageTensor;
    assert.deepEqual(a.data, b.data);
    assert.deepEqual(a.data, c.data);
    assert.notDeepEqual(a.data, d.data);
  });

  test('the fused flip + ToTensor + Normalize equals the three steps', () => {
    const img = noiseImage(10, 7);
    const steps = [new RandomHorizontalFlip(1), new ToTensor(), new Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])];
    const fused = new Compose(steps).apply(img, new Rng(0)) as ImageTensor;
    let x: ReturnType<RandomHorizontalFlip['apply']> = img;
    for (const s of steps) x = s.apply(x, new Rng(0));
    const separate = x as ImageTensor;
    for (let i = 0; i < fused.data.length; i++) assert.ok(Math.abs(fused.data[i] - separate.data[i]) < 1e-5);
  });

  test('evalPreset builds Resize, CenterCrop, ToTensor, Normalize from a weight variant', () => {
    const preset = evalPreset({ resizeSize: 232, cropSize: 224, interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    assert.deepEqual(preset.transforms.map((t) => t.name), ['Resize', 'CenterCrop', 'ToTensor', 'Normalize']);
    const out = preset.apply(noiseImage(300, 250)) as ImageTensor;
    assert.deepEqual([out.channels, out.height, out.width], [3, 224, 224]);
  });
});

describe('Resize then CenterCrop', () => {
  test('in a Compose, only the kept window is resampled, and every pixel equals resizing then cropping', () => {
    const sizes: [number, number][] = [[500, 375], [375, 500], [341, 256], [257, 256], [1000, 97], [224, 224], [230, 180], [64, 48], [3001, 2000]];
    for (const interpolation of ['bilinear', 'bicubic', 'nearest'] as const) {
      for (const [w, h] of sizes) {
        for (const [resizeTo, cropTo] of [[256, 224], [224, 224], [232, 224], [256, 300]] as const) {
          const image = noiseImage(w, h, w * 7 + h);
          const steps = [new Resize(resizeTo, { interpolation }), new CenterCrop(cropTo)];
          const oneAfterOther = steps[1].apply(steps[0].apply(image)) as RgbImage;
          const fused = new Compose(steps).apply(image) as RgbImage;
          const what = `${interpolation} ${w}x${h} -> ${resizeTo} -> ${cropTo}`;
          assert.deepEqual([fused.width, fused.height], [oneAfterOther.width, oneAfterOther.height], what);
          assert.ok(Buffer.from(fused.data).equals(Buffer.from(oneAfterOther.data)), what);
        }
      }
    }
  });
});

describe('resample in WebAssembly', () => {
  test('gives the JavaScript passes\' bytes exactly, over sizes, regions, windows and both filters', () => {
    assert.ok(resampleKernelAvailable(), 'the kernel runs here, so the comparison compares two implementations');
    const cases: [number, number, number, number][] = [[500, 375, 341, 256], [375, 500, 256, 341], [640, 480, 224, 224], [97, 1000, 50, 300], [33, 17, 200, 90], [1, 1, 7, 5], [3001, 2000, 299, 299], [256, 255, 256, 256]];
    for (const interpolation of ['bilinear', 'bicubic'] as const) {
      for (const [w, h, ow, oh] of cases) {
        const image = noiseImage(w, h, w + 13 * h);
        const what = `${interpolation} ${w}x${h} -> ${ow}x${oh}`;
        const same = (a: RgbImage, b: RgbImage, label: string) => {
          assert.deepEqual([a.width, a.height], [b.width, b.height], label);
          assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), label);
        };
        same(resample(image, ow, oh, interpolation), resampleInJavaScript(image, ow, oh, interpolation), what);
        const region = { left: Math.floor(w / 5), top: Math.floor(h / 7), width: Math.max(1, Math.floor(w / 2)), height: Math.max(1, Math.floor(h / 2)) };
        same(resample(image, ow, oh, interpolation, region), resampleInJavaScript(image, ow, oh, interpolation, region), `${what} region`);
        const win = { left: Math.floor(ow / 4), top: Math.floor(oh / 3), width: Math.max(1, Math.floor(ow / 2)), height: Math.max(1, Math.floor(oh / 2)) };
        same(resample(image, ow, oh, interpolation, undefined, win), resampleInJavaScript(image, ow, oh, interpolation, undefined, win), `${what} window`);
      }
    }
  });
});
