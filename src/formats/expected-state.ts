/**
 * A checkpoint checked against the model it is for, from its header alone: keys, shapes, types
 * and sizes are compared before a single tensor is decoded or inflated, so a 500-byte file that
 * claims gigabytes fails with the model's own key list instead of allocating them.
 */
import { StateDictError } from '../nn/module.ts';
import { compareStateDicts, isCleanLoad, type StateDictSpec, type TensorSpec } from '../nn/state-dict.ts';
import { cannotRead } from './errors.ts';

export interface ReadWeightsOptions {
  /**
   * The model's state dict (`specOf(model.stateDict())`): the checkpoint must match it exactly,
   * and is refused, listing every difference, before anything is read. Also bounds what the
   * file may inflate or allocate by what the model holds.
   */
  expected?: StateDictSpec;
  /** Told what was changed on the way, such as a removed DataParallel prefix. */
  onNote?: (message: string) => void;
}

/** The prefix `torch.nn.DataParallel` and DistributedDataParallel put on every key. */
const DATA_PARALLEL_PREFIX = 'module.';

/**
 * Without a model to compare with: 4 GiB of elements as stored, above the largest torchvision
 * checkpoint (regnet_y_128gf, 2.6 GB) and far below what a hostile size claims.
 */
export const MAX_CHECKPOINT_BYTES = 2 ** 32;

/** No element type is wider than 8 bytes, so a checkpoint of the model needs at most this much. */
export function byteBudget(expected: StateDictSpec | undefined): number {
  if (!expected) return MAX_CHECKPOINT_BYTES;
  let elements = 0;
  for (const t of expected.values()) elements += t.shape.reduce((a, b) => a * b, 1);
  return Math.min(MAX_CHECKPOINT_BYTES, elements * 8);
}

/**
 * The key each checkpoint key is loaded under. With a model to match: a DataParallel prefix on
 * every key (and on none of the model's) is removed and reported, then any difference left is a
 * StateDictError naming every key, as a strict `loadStateDict` would throw.
 */
export function matchExpected(received: ReadonlyMap<string, TensorSpec>, file: string, options: ReadWeightsOptions): Map<string, string> {
  const keys = new Map([...received.keys()].map((k) => [k, k]));
  const { expected } = options;
  if (!expected) return keys;
  let renamed: Map<string, TensorSpec> = new Map(received);
  const everyKey = (map: ReadonlyMap<string, unknown>) => map.size > 0 && [...map.keys()].every((k) => k.startsWith(DATA_PARALLEL_PREFIX));
  if (everyKey(received) && ![...expected.keys()].some((k) => k.startsWith(DATA_PARALLEL_PREFIX))) {
    renamed = new Map([...received].map(([k, t]) => [k.slice(DATA_PARALLEL_PREFIX.length), t]));
    for (const k of keys.keys()) keys.set(k, k.slice(DATA_PARALLEL_PREFIX.length));
    (options.onNote ?? ((m) => console.warn(`graft: ${m}`)))(
      `"${file}" was saved from a DataParallel model: removed the prefix "${DATA_PARALLEL_PREFIX}" from its ${received.size} keys`,
    );
  }
  const report = compareStateDicts(expected, renamed);
  if (!isCleanLoad(report)) throw new StateDictError(report, file);
  return keys;
}

/** A running total of bytes a reader is about to allocate, refused past `budget` before allocating. */
export class ByteBudget {
  private used = 0;
  constructor(
    private readonly file: string,
    private readonly budget: number,
    private readonly against: string,
  ) {}

  take(bytes: number, what: string): void {
    this.used += bytes;
    if (this.used > this.budget) {
      throw cannotRead(this.file, `${what} takes the checkpoint to ${this.used} bytes, more than ${this.budget}, ${this.against}`);
    }
  }
}

export function newBudget(file: string, expected: StateDictSpec | undefined): ByteBudget {
  const budget = byteBudget(expected);
  return new ByteBudget(
    file,
    budget,
    expected && budget < MAX_CHECKPOINT_BYTES ? "what the model's state dict can need at 8 bytes an element" : 'the most graft reads from one checkpoint',
  );
}
