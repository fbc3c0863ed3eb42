import { Parameter } from '../nn/parameter.ts';
import { checkNumber, describe, invalidParameter, invalidType } from '../errors/index.ts';
import { toCamel, toSnake } from './state-keys.ts';

/** Hyper-parameters every optimizer has; each optimizer adds its own. */
export interface Hyperparameters {
  lr: number;
}

/** Keys the LR schedulers add to a group, as PyTorch's do (`initial_lr`, `max_lr`, ...). */
export interface SchedulerGroupFields {
  initialLr?: number;
  maxLr?: number;
  minLr?: number;
  maxMomentum?: number;
  baseMomentum?: number;
}
const SCHEDULER_FIELDS = ['initialLr', 'maxLr', 'minLr', 'maxMomentum', 'baseMomentum'] as const;

/** A set of parameters trained with its own hyper-parameters. Schedulers change `lr` here. */
export type ParamGroup<H extends Hyperparameters = Hyperparameters> = H & SchedulerGroupFields & { params: Parameter[] };

/** What the constructor takes for one group: its parameters and whichever hyper-parameters differ from the defaults. */
export type ParamGroupSpec<H extends Hyperparameters = Hyperparameters> = Partial<H> & { params: Iterable<Parameter> };

/** Parameters to optimize: a plain iterable (`model.fc.parameters()`) or groups with their own settings. */
export type Params<H extends Hyperparameters = Hyperparameters> = Iterable<Parameter> | Iterable<ParamGroupSpec<H>>;

/** Per-parameter state: moment buffers and counters. */
export type ParamState = Record<string, Float32Array | number | null>;

/** PyTorch's layout: state by parameter index, groups listing the indices they hold. */
export interface OptimizerStateDict {
  state: Record<string, Record<string, Float32Array | number | null>>;
  param_groups: Record<string, unknown>[];
}

/** PyTorch group flags that have no meaning here; a PyTorch state dict carrying them still loads. */
const TORCH_ONLY_FLAGS = new Set(['foreach', 'capturable', 'differentiable', 'fused']);

/**
 * The base of every optimizer, as torch.optim.Optimizer. Updates run on the host, in place, over
 * each parameter's Float32Array: the update is a few multiply-adds per value, cheaper than a
 * round trip through a session, and the values stay where the next forward pass feeds them from.
 */
export abstract class Optimizer<H extends Hyperparameters = Hyperparameters, S extends ParamState = ParamState> {
  readonly defaults: H;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Lazily created on a parameter's first update, as in PyTorch. */
  readonly state = new Map<Parameter, S>();

  constructor(params: Params<H>, defaults: Partial<H>) {
    this.defaults = { ...defaults } as H;
    const items = [...(params as Iterable<Parameter | ParamGroupSpec<H>>)];
    if (items.length === 0) throw new RangeError('The optimizer got an empty parameter list');
    const specs = items[0] instanceof Parameter
      ? [{ params: items as Parameter[] } as unknown as ParamGroupSpec<H>]
      : (items as ParamGroupSpec<H>[]);
    const plain = items[0] instanceof Parameter;
    for (const spec of specs) this.insertGroup(spec, plain ? '' : ` of parameter group ${this.paramGroups.length}`);
  }

  /** Checks one group's hyper-parameters; `where` names the group in messages ("lr of parameter group 1"). */
  protected abstract validateGroup(group: ParamGroup<H>, where: string): void;

  /** Updates every parameter that has a gradient. */
  abstract step(): void;

  /** The option names this optimizer knows, in PyTorch's order, for state dicts. */
  protected abstract hyperparameterNames(): readonly string[];

  /** Adds a group, e.g. to unfreeze a backbone part-way through training with a smaller lr. */
  addParamGroup(spec: ParamGroupSpec<H>): void {
    this.insertGroup(spec, ` of parameter group ${this.paramGroups.length}`);
  }

  private insertGroup(spec: ParamGroupSpec<H>, where: string): void {
    const index = this.paramGroups.length;
    if (spec === null || typeof spec !== 'object' || !('params' in spec)) {
      throw invalidType(`parameter group ${index}`, 'an object with params', spec);
    }
    const params = spec.params instanceof Parameter ? [spec.params] : [...spec.params];
    params.forEach((p, i) => {
      if (!(p instanceof Parameter)) throw invalidType(`params[${i}] of parameter group ${index}`, 'a Parameter', p);
    });
    if (new Set(params).size !== params.length) {
      throw new RangeError(`Parameter group ${index} lists the same parameter more than once`);
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => seen.has(p))) {
      throw new RangeError(`Some parameters of parameter group ${index} are already in another group`);
    }
    const group = { ...this.defaults, ...spec, params } as ParamGroup<H>;
    if (group.lr === undefined) {
      throw invalidParameter(`lr${where}`, 'number >= 0 (give it to the group or to the defaults)', undefined);
    }
    this.validateGroup(group, where);
    this.paramGroups.push(group);
  }

  /** Forgets every gradient (PyTorch's `zero_grad(set_to_none=True)`): parameters without one are skipped by `step()`. */
  zeroGrad(): void {
    for (const group of this.paramGroups) for (const p of group.params) p.grad = null;
  }

  /**
   * The gradient's values, or null when the parameter has none (frozen, or not reached by the
   * loss). Gradients must have been computed: `await loss.backward()` does that.
   */
  protected gradientOf(p: Parameter, where: () => string): Float32Array | null {
    const g = p.grad;
    if (g === null) return null;
    const v = g.value;
    if (v === null) {
      throw new Error(`The gradient of ${where()} has not been computed yet: await loss.backward() before optimizer.step()`);
    }
    if (!(v instanceof Float32Array) || v.length !== p.size) {
      throw invalidType(`the gradient of ${where()}`, `a Float32Array of ${p.size} values (shape [${p.shape}])`, v);
    }
    return v;
  }

  /** Every parameter in order across groups: the numbering of state dicts. */
  protected *indexedParams(): Generator<[number, Parameter, ParamGroup<H>]> {
    let i = 0;
    for (const group of this.paramGroups) for (const p of group.params) yield [i++, p, group];
  }

  /**
   * A copy of the optimizer's state in PyTorch's layout and key names (`momentum_buffer`,
   * `exp_avg`, `weight_decay`, `initial_lr`), so it maps one to one onto `optimizer.state_dict()`.
   */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict['state'] = {};
    const groups: Record<string, unknown>[] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const packed: Record<string, unknown> = {};
      for (const name of [...this.hyperparameterNames(), ...SCHEDULER_FIELDS]) {
        const v = (group as unknown as Record<string, unknown>)[name];
        if (v !== undefined) packed[toSnake(name)] = Array.isArray(v) ? [...v] : v;
      }
      packed.params = group.params.map(() => index++);
      groups.push(packed);
    }
    for (const [i, p] of this.indexedParams()) {
      const s = this.state.get(p);
      if (!s) continue;
      const entry: Record<string, Float32Array | number | null> = {};
      for (const [k, v] of Object.entries(s)) entry[toSnake(k)] = v instanceof Float32Array ? v.slice() : v;
      state[String(i)] = entry;
    }
    return { state, param_groups: groups };
  }

  /**
   * Restores a state dict made by `stateDict()` (or PyTorch's, converted to plain arrays): the
   * groups' hyper-parameters and each parameter's state. Parameters are matched by position, as
   * in PyTorch. Checks everything before changing anything.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    if (sd === null || typeof sd !== 'object' || !Array.isArray(sd.param_groups) || typeof sd.state !== 'object' || sd.state === null) {
      throw invalidType('the optimizer state dict', 'an object with state and param_groups', sd);
    }
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new RangeError(`The loaded state dict has ${sd.param_groups.length} parameter groups but this optimizer has ${this.paramGroups.length}`);
    }
    // Saved parameter index -> this optimizer's parameter, by position (PyTorch's rule).
    const byIndex = new Map<string, Parameter>();
    const groups = sd.param_groups.map((saved, gi) => {
      const own = this.paramGroups[gi];
      const ids = saved.params;
      if (!Array.isArray(ids) || ids.length !== own.params.length) {
        throw new RangeError(`Parameter group ${gi} of the loaded state dict has ${Array.isArray(ids) ? ids.length : describe(ids)} parameters but this optimizer's group ${gi} has ${own.params.length}`);
      }
      ids.forEach((id, j) => byIndex.set(String(id), own.params[j]));
      const known = new Set<string>([...this.hyperparameterNames(), ...SCHEDULER_FIELDS]);
      const restored: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(saved)) {
        if (key === 'params' || TORCH_ONLY_FLAGS.has(key)) continue;
        const name = toCamel(key);
        if (!known.has(name)) {
          throw new RangeError(`Parameter group ${gi} of the loaded state dict has the key "${key}", which ${this.constructor.name} does not know (known: ${[...known].map(toSnake).join(', ')})`);
        }
        restored[name] = Array.isArray(value) ? [...value] : value;
      }
      for (const name of SCHEDULER_FIELDS) {
        if (restored[name] !== undefined) checkNumber(`${toSnake(name)} of parameter group ${gi}`, restored[name]);
      }
      const group = { ...restored, params: own.params } as unknown as ParamGroup<H>;
      for (const name of this.hyperparameterNames()) {
        if ((restored as Record<string, unknown>)[name] === undefined) throw new RangeError(`Parameter group ${gi} of the loaded state dict has no "${toSnake(name)}"`);
      }
      this.validateGroup(group, ` of parameter group ${gi}`);
      return group;
    });
    const state = new Map<Parameter, S>();
    for (const [id, entry] of Object.entries(sd.state)) {
      const p = byIndex.get(id);
      if (!p) throw new RangeError(`The loaded state dict has state for parameter ${id}, which none of its parameter groups lists`);
      state.set(p, this.restoreState(entry, p, id));
    }
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
    this.state.clear();
    for (const [p, s] of state) this.state.set(p, s);
  }

  /** One parameter's saved state, checked against the keys this optimizer keeps and the parameter's size. */
  protected restoreState(entry: Record<string, unknown>, p: Parameter, id: string): S {
    const expected = this.stateKeys();
    const restored: ParamState = {};
    for (const [key, value] of Object.entries(entry)) {
      const name = toCamel(key);
      const kind = expected[name];
      if (!kind) {
        throw new RangeError(`state[${id}] has the key "${key}", which ${this.constructor.name} does not keep (it keeps: ${Object.keys(expected).map(toSnake).join(', ')})`);
      }
      if (kind === 'count') {
        restored[name] = checkNumber(`state[${id}].${key}`, typeof value === 'object' && value !== null && 'length' in value ? Number((value as ArrayLike<number>)[0]) : value, { min: 0 });
      } else if (value === null && kind === 'buffer?') {
        restored[name] = null;
      } else {
        const values = value instanceof Float32Array || Array.isArray(value) ? value : null;
        if (!values || values.length !== p.size) {
          throw invalidType(`state[${id}].${key}`, `${p.size} values (parameter ${id} has shape [${p.shape}])`, value);
        }
        restored[name] = Float32Array.from(values as ArrayLike<number>);
      }
    }
    return restored as S;
  }

  /** The state keys kept per parameter: 'count' (a number), 'buffer' (a Float32Array) or 'buffer?' (or null). */
  protected abstract stateKeys(): Record<string, 'count' | 'buffer' | 'buffer?'>;

  /** Marks a parameter as changed in place, so compiled sessions that hold it as a constant refresh. */
  protected touched(p: Parameter): void {
    p.assign(p.value as Float32Array);
  }
}
