import { Optimizer, type Hyperparameters, type ParamGroup, type Params } from './optimizer.ts';
import { checkBoolean, checkNumber } from '../errors/index.ts';

export interface SGDOptions extends Hyperparameters {
  /** Learning rate; required (in the options or in every group), as in PyTorch. */
  lr: number;
  momentum: number;
  /** Dampening of the gradient's share of the momentum: buf = momentum * buf + (1 - dampening) * g. */
  dampening: number;
  /** L2 penalty, added to the gradient as weightDecay * param. */
  weightDecay: number;
  nesterov: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}

export interface SGDState extends Record<string, Float32Array | number | null> {
  /** Null while momentum is 0, as PyTorch keeps it. */
  momentumBuffer: Float32Array | null;
}

const DEFAULTS: Omit<SGDOptions, 'lr'> = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

/**
 * Stochastic gradient descent with momentum, as torch.optim.SGD (PyTorch 1.13):
 *
 *     g = grad + weightDecay * p
 *     buf = g                                          (first step)
 *     buf = momentum * buf + (1 - dampening) * g       (later steps)
 *     g = nesterov ? g + momentum * buf : buf          (when momentum != 0)
 *     p = p - lr * g
 *
 * @example
 * const optimizer = new optim.SGD(model.fc.parameters(), { lr: 1e-3, momentum: 0.9 });
 * const fineTune = new optim.SGD([{ params: model.layer4.parameters(), lr: 1e-4 }, { params: model.fc.parameters() }], { lr: 1e-3, momentum: 0.9 });
 */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: Params<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super(params, { ...DEFAULTS, ...options });
  }

  protected override validateGroup(group: ParamGroup<SGDOptions>, where: string): void {
    checkNumber(`lr${where}`, group.lr, { min: 0 });
    checkNumber(`momentum${where}`, group.momentum, { min: 0 });
    checkNumber(`dampening${where}`, group.dampening);
    checkNumber(`weightDecay${where}`, group.weightDecay, { min: 0 });
    checkBoolean(`nesterov${where}`, group.nesterov);
    checkBoolean(`maximize${where}`, group.maximize);
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
      throw new RangeError(`Nesterov momentum needs momentum > 0 and dampening 0, but${where || ' the options'} have momentum ${group.momentum} and dampening ${group.dampening}`);
    }
  }

  protected override hyperparameterNames() {
    return ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'] as const;
  }

  protected override stateKeys() {
    return { momentumBuffer: 'buffer?' } as const;
  }

  override step(): void {
    let index = 0;
    for (const group of this.paramGroups) {
      const { lr, momentum, dampening, weightDecay, nesterov } = group;
      const sign = group.maximize ? -1 : 1;
      for (const p of group.params) {
        const at = index++;
        const grad = this.gradientOf(p, () => `parameter ${at}`);
        if (!grad) continue;
        const w = p.value as Float32Array;
        let state = this.state.get(p);
        if (!state) this.state.set(p, (state = { momentumBuffer: null }));
        if (momentum === 0) {
          plainStep(w, grad, lr, sign, weightDecay);
        } else {
          // The first step seeds the buffer with the gradient itself, undamped (PyTorch's rule):
          // the later steps' rule on the new, zero buffer with carry 0 and keep 1, exactly. One
          // loop then serves every step, and V8 has optimized it by the second, which makes the
          // early steps faster than a loop of its own for the first (bench/NOTES.md, "SGD step").
          const first = state.momentumBuffer === null;
          const buf = state.momentumBuffer ?? (state.momentumBuffer = new Float32Array(w.length));
          const [carry, keep] = first ? [0, 1] : [momentum, 1 - dampening];
          if (nesterov) nesterovStep(w, grad, buf, lr, carry, keep, momentum, sign, weightDecay);
          else if (keep === 1 && sign === 1 && weightDecay === 0) heavyBallStep(w, grad, buf, lr, carry);
          else momentumStep(w, grad, buf, lr, carry, keep, sign, weightDecay);
        }
        this.touched(p);
      }
    }
  }
}

// One function per rule, each a single loop: branches inside a 25M-iteration loop cost more than
// the arithmetic. fround: PyTorch holds the decayed gradient and the buffer in float32 tensors.

function plainStep(w: Float32Array, grad: Float32Array, lr: number, sign: number, weightDecay: number): void {
  const n = w.length;
  for (let i = 0; i < n; i++) w[i] -= lr * Math.fround(sign * grad[i] + weightDecay * w[i]);
}

/** The common case, buf = carry * buf + g; p -= lr * buf: fewer reads and multiplies than momentumStep (bench/NOTES.md, "SGD step"). */
function heavyBallStep(w: Float32Array, grad: Float32Array, buf: Float32Array, lr: number, carry: number): void {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const b = Math.fround(carry * buf[i] + grad[i]);
    buf[i] = b;
    w[i] -= lr * b;
  }
}

/** buf = carry * buf + keep * g; p -= lr * buf. */
function momentumStep(w: Float32Array, grad: Float32Array, buf: Float32Array, lr: number, carry: number, keep: number, sign: number, weightDecay: number): void {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const b = Math.fround(carry * buf[i] + keep * Math.fround(sign * grad[i] + weightDecay * w[i]));
    buf[i] = b;
    w[i] -= lr * b;
  }
}

/** buf = carry * buf + keep * g; p -= lr * (g + momentum * buf). */
function nesterovStep(w: Float32Array, grad: Float32Array, buf: Float32Array, lr: number, carry: number, keep: number, momentum: number, sign: number, weightDecay: number): void {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const g = Math.fround(sign * grad[i] + weightDecay * w[i]);
    const b = Math.fround(carry * buf[i] + keep * g);
    buf[i] = b;
    w[i] -= lr * (g + momentum * b);
  }
}
