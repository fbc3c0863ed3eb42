import type { Rng } from '../rng.ts';
import { generators } from '../generators.ts';
import type { Sample } from '../image.ts';

/**
 * A transform is a pure function of its input and a random generator; the class around it only
 * holds validated options. `spec()` describes it as plain data so the loader can rebuild the same
 * pipeline inside worker threads.
 */
export interface Transform {
  readonly name: string;
  apply(input: Sample, rng?: Rng): Sample;
  spec(): TransformSpec;
}

export interface TransformSpec {
  name: string;
  options: Record<string, unknown>;
}

type Factory = (options: any) => Transform;
const registry = new Map<string, Factory>();

/** Registers a transform under its torchvision name; names are unique. */
export function registerTransform(name: string, factory: Factory): void {
  if (registry.has(name)) throw new Error(`Transform ${name} is already registered`);
  registry.set(name, factory);
}

export function transformFromSpec(spec: TransformSpec): Transform {
  const factory = registry.get(spec.name);
  if (!factory) throw new RangeError(`Unknown transform ${JSON.stringify(spec.name)}; registered: ${[...registry.keys()].join(', ')}`);
  return factory(spec.options);
}

/** The generator random transforms draw from when no Rng is passed (data/generators.ts). */
export function defaultRng(): Rng {
  return generators().transforms;
}

/** Python's round(): halves go to the even neighbour. torchvision's crop arithmetic relies on it. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
