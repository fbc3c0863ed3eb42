import { invalidParameter, received } from '../errors/index.ts';

/**
 * A small seedable PRNG (sfc32, seeded through splitmix32) so every random transform, shuffle and
 * split is reproducible from one integer, independently of Math.random and of which worker runs it.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | readonly number[] = 0) {
    const seeds = typeof seed === 'number' ? [seed] : seed;
    let h = 0x9e3779b9;
    for (const s of seeds) h = mix32(h ^ (s >>> 0)) ^ mix32((s / 0x100000000) >>> 0);
    this.a = mix32(h + 1);
    this.b = mix32(h + 2);
    this.c = mix32(h + 3);
    this.d = 1;
    // Discard the first outputs: sfc32 needs a few rounds to decorrelate nearby seeds.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 bits, like Python's random(). */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi), as torch.empty(1).uniform_(lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  /** Integer in [lo, hi) as torch.randint(lo, hi); unbiased by rejection. */
  int(lo: number, hi: number): number {
    const n = hi - lo;
    if (n <= 0) throw invalidParameter('Rng.int', 'hi > lo', received(`[${lo}, ${hi})`));
    if (n <= 0x100000000) {
      const limit = Math.floor(0x100000000 / n) * n;
      let x = this.nextUint32();
      while (x >= limit) x = this.nextUint32();
      return lo + (x % n);
    }
    return lo + Math.floor(this.random() * n);
  }

  /** True with probability p, as torch.rand(1) < p. */
  bernoulli(p: number): boolean {
    return this.random() < p;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }
}

/** splitmix32 finalizer: a cheap, well-mixed 32-bit hash. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a over UTF-8 bytes then mixed: stable across platforms and Node versions. */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ mix32(seed)) >>> 0;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** Standard normal draw (Box-Muller), as torch's normal_(). */
export function normal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.random());
}
