import './tensor-api.ts';
import { Tensor } from '../graph/tensor.ts';
import { withScope } from '../graph/scope.ts';
import { compareStateDicts, isCleanLoad, type HostTensor, type LoadReport, type StateDict } from './state-dict.ts';
import { Parameter, Buffer } from './parameter.ts';

export type { LoadReport } from './state-dict.ts';

/** Raised by a strict `loadStateDict` that found anything but an exact match; lists every key. */
export class StateDictError extends Error {
  constructor(readonly report: LoadReport, source: string) {
    const lines = [
      ...report.missingKeys.map((k) => `  missing key: ${k}`),
      ...report.unexpectedKeys.map((k) => `  unexpected key: ${k}`),
      ...report.shapeMismatches.map((m) => `  shape mismatch for ${m.key}: the model has [${m.expected}], ${source} has [${m.received}]`),
      ...report.dtypeMismatches.map((m) => `  dtype mismatch for ${m.key}: the model has ${m.expected}, ${source} has ${m.received}`),
    ];
    super(`Error loading state dict from ${source}:\n${lines.join('\n')}`);
    this.name = 'StateDictError';
  }
}

const active: Module[] = [];

/**
 * The base of every layer and network, as torch.nn.Module. Sub-modules, parameters and buffers
 * are found among the instance's own properties, so the property names are the state-dict keys
 * and their declaration order is the state dict's order.
 */
export abstract class Module {
  training = true;
  /** torch's `_version` of this module, where its loading reads it (written into a .pth's `_metadata`). */
  declare readonly stateDictVersion?: number;

  constructor() {
    // Runs every forward inside the module's scope, so shape errors and ONNX node names say
    // where they come from (`layer1.0.conv2`). The subclass's forward is already on the prototype.
    const forward = this.forward;
    Object.defineProperty(this, 'forward', {
      enumerable: false, writable: true, configurable: true,
      value: (...args: unknown[]) => {
        const parent = active[active.length - 1];
        const name = parent ? parent.nameOf(this) : '';
        active.push(this);
        try {
          return name ? withScope(name, () => forward.apply(this, args)) : forward.apply(this, args);
        } finally {
          active.pop();
        }
      },
    });
  }

  abstract forward(...args: any[]): Tensor;

  private nameOf(child: Module): string {
    for (const [k, v] of Object.entries(this)) if (v === child) return k;
    return child.constructor.name;
  }

  *namedChildren(): Generator<[string, Module]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) yield [k, v];
  }

  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [k, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${k}` : k);
  }

  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  *namedParameters(prefix = ''): Generator<[string, Parameter]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Parameter) yield [prefix ? `${prefix}.${k}` : k, v];
    for (const [k, m] of this.namedChildren()) yield* m.namedParameters(prefix ? `${prefix}.${k}` : k);
  }

  *parameters(): Generator<Parameter> {
    for (const [, p] of this.namedParameters()) yield p;
  }

  *namedBuffers(prefix = ''): Generator<[string, Buffer]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Buffer) yield [prefix ? `${prefix}.${k}` : k, v];
    for (const [k, m] of this.namedChildren()) yield* m.namedBuffers(prefix ? `${prefix}.${k}` : k);
  }

  *buffers(): Generator<Buffer> {
    for (const [, b] of this.namedBuffers()) yield b;
  }

  /** Parameters and buffers by key, in PyTorch's order (each module's own first, then its children's). */
  private *namedState(prefix = ''): Generator<[string, Parameter | Buffer]> {
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Parameter || v instanceof Buffer) yield [prefix ? `${prefix}.${k}` : k, v];
    }
    for (const [k, m] of this.namedChildren()) yield* m.namedState(prefix ? `${prefix}.${k}` : k);
  }

  /** The values of every parameter and buffer. The arrays are the module's own, not copies. */
  stateDict(): StateDict {
    const sd: StateDict = new Map();
    for (const [k, t] of this.namedState()) {
      sd.set(k, t.dtype === 'int64'
        ? { dtype: 'int64', shape: [...t.shape], data: t.value as BigInt64Array }
        : { dtype: 'float32', shape: [...t.shape], data: t.value as Float32Array });
    }
    return sd;
  }

  /**
   * Copies values from a state dict. Strict (the default) refuses anything but an exact match and
   * lists every missing, unexpected and mis-shaped key; non-strict loads what matches and reports
   * the rest. Shape mismatches are never loaded. Nothing is changed when a strict load fails.
   */
  loadStateDict(sd: StateDict | Record<string, HostTensor>, opts: { strict?: boolean; source?: string } = {}): LoadReport {
    const strict = opts.strict ?? true;
    const entries = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = new Map(this.namedState());
    const report = compareStateDicts(own, entries);
    if (strict && !isCleanLoad(report)) throw new StateDictError(report, opts.source ?? 'the state dict');
    const refused = new Set([...report.shapeMismatches, ...report.dtypeMismatches].map((m) => m.key));
    const matched = [...own].flatMap(([key, t]) => {
      const v = entries.get(key);
      return v && !refused.has(key) ? [[t, v] as const] : [];
    });
    for (const [t, v] of matched) (t as Buffer).assign(v.data.slice() as Float32Array);
    return report;
  }

  /** Switches batch norm to batch statistics and dropout on (train) or off (eval) in every sub-module. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Sets requiresGrad on every parameter: `requiresGrad_(false)` freezes the module. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Calls fn on every sub-module (children first) and on this module, as torch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  /** Extra text for the printed form, as PyTorch's extra_repr. */
  protected extraRepr(): string {
    return '';
  }

  toString(): string {
    const kids = [...this.namedChildren()];
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!kids.length) return `${head})`;
    const body = kids.map(([k, m]) => `  (${k}): ${m.toString().replace(/\n/g, '\n  ')}`).join('\n');
    return `${head}\n${body}\n)`;
  }
}
