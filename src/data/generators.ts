import { AsyncLocalStorage } from 'node:async_hooks';
import { checkInteger } from '../errors/index.ts';
import { Rng } from './rng.ts';

const INIT_DEFAULT_STATE = 0x2545f491;

/**
 * The generators graft draws from when no Rng is passed, as torch's default generator: one for
 * weight initialization and dropout masks, one for random transforms. A job runs with its own
 * (`withSeed`), so jobs that run at once in one process draw independently and each gets what it
 * would get alone; code outside any job uses the process' own, which `manualSeed` reseeds.
 */
export class Generators {
  private initState: number;
  transforms: Rng;

  constructor(seed?: number) {
    this.initState = seed === undefined ? INIT_DEFAULT_STATE : seed >>> 0 || INIT_DEFAULT_STATE;
    this.transforms = new Rng(seed ?? 0);
  }

  reseed(seed: number): void {
    checkInteger('seed', seed);
    this.initState = seed >>> 0 || INIT_DEFAULT_STATE;
    this.transforms = new Rng(seed);
  }

  /** Uniform in [0, 1) for initialization: mulberry32, small, fast, and good enough for that. */
  initRandom(): number {
    this.initState = (this.initState + 0x6d2b79f5) >>> 0;
    let t = this.initState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

const context = new AsyncLocalStorage<Generators>();
/** The generators of code that runs outside any `withSeed` (scripts, the one-shot CLI). */
let processGenerators: Generators | undefined;

/** The generators of the calling code: the innermost `withSeed`, else the process' own. */
export function generators(): Generators {
  return context.getStore() ?? (processGenerators ??= new Generators());
}

/** Runs `fn` (and everything it awaits) with generators of its own, seeded with `seed`. */
export function withSeed<T>(seed: number, fn: () => T): T {
  checkInteger('seed', seed);
  return context.run(new Generators(seed), fn);
}

/** Reseeds the calling code's generators, as torch.manual_seed does. */
export function manualSeed(seed: number): void {
  generators().reseed(seed);
}
