import { Optimizer, type Hyperparameters, type ParamGroup, type Params } from './optimizer.ts';
import { checkBoolean, checkNumber, invalidType } from '../errors/index.ts';

export interface AdamOptions extends Hyperparameters {
  lr: number;
  /** Decay rates of the first and second moment estimates. */
  betas: [number, number];
  /** Added to the denominator for numerical stability. */
  eps: number;
  weightDecay: number;
  /** Normalize by the largest second moment seen so far (Reddi et al., "On the Convergence of Adam and Beyond"). */
  amsgrad: boolean;
  maximize: boolean;
}

export interface AdamState extends Record<string, Float32Array | number | null> {
  step: number;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
  /** Present with amsgrad only. */
  maxExpAvgSq: Float32Array;
}

const DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };

/**
 * Adam, as torch.optim.Adam (PyTorch 1.13). Weight decay is an L2 penalty added to the gradient;
 * AdamW decouples it.
 *
 *     g = grad + weightDecay * p
 *     m = beta1 * m + (1 - beta1) * g
 *     v = beta2 * v + (1 - beta2) * g^2             (vmax = max(vmax, v) with amsgrad, used in place of v)
 *     p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
export class Adam extends Optimizer<AdamOptions, AdamState> {
  /** AdamW's decay: p *= 1 - lr * weightDecay before the update, instead of adding to the gradient. */
  protected readonly decoupledWeightDecay: boolean = false;

  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { ...DEFAULTS, ...options });
  }

  protected override validateGroup(group: ParamGroup<AdamOptions>, where: string): void {
    checkNumber(`lr${where}`, group.lr, { min: 0 });
    checkNumber(`eps${where}`, group.eps, { min: 0 });
    if (!Array.isArray(group.betas) || group.betas.length !== 2) throw invalidType(`betas${where}`, 'an array of two numbers', group.betas);
    checkNumber(`betas[0]${where}`, group.betas[0], { min: 0, maxExclusive: 1 });
    checkNumber(`betas[1]${where}`, group.betas[1], { min: 0, maxExclusive: 1 });
    checkNumber(`weightDecay${where}`, group.weightDecay, { min: 0 });
    checkBoolean(`amsgrad${where}`, group.amsgrad);
    checkBoolean(`maximize${where}`, group.maximize);
  }

  protected override hyperparameterNames() {
    return ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'] as const;
  }

  protected override stateKeys() {
    return { step: 'count', expAvg: 'buffer', expAvgSq: 'buffer', maxExpAvgSq: 'buffer' } as const;
  }

  override step(): void {
    let index = 0;
    for (const group of this.paramGroups) {
      const { lr, eps, weightDecay, amsgrad } = group;
      const [beta1, beta2] = group.betas;
      const sign = group.maximize ? -1 : 1;
      // Decoupled decay shrinks the weights; coupled decay feeds the gradient.
      const shrink = this.decoupledWeightDecay ? 1 - lr * weightDecay : 1;
      const l2 = this.decoupledWeightDecay ? 0 : weightDecay;
      for (const p of group.params) {
        const at = index++;
        const grad = this.gradientOf(p, () => `parameter ${at}`);
        if (!grad) continue;
        const w = p.value as Float32Array;
        const n = w.length;
        let state = this.state.get(p);
        if (!state) {
          state = { step: 0, expAvg: new Float32Array(n), expAvgSq: new Float32Array(n) } as AdamState;
          if (amsgrad) state.maxExpAvgSq = new Float32Array(n);
          this.state.set(p, state);
        }
        if (amsgrad && !state.maxExpAvgSq) state.maxExpAvgSq = new Float32Array(n);
        const t = ++state.step;
        const stepSize = lr / (1 - beta1 ** t);
        const correction2Sqrt = Math.sqrt(1 - beta2 ** t);
        const m = state.expAvg;
        const v = state.expAvgSq;
        // Each intermediate is rounded where PyTorch stores a float32 tensor, so trajectories match.
        // With shrink 1 or l2 0 those steps are exact no-ops, so the same loops serve Adam and AdamW.
        if (amsgrad) {
          const vmax = state.maxExpAvgSq;
          for (let i = 0; i < n; i++) {
            const wi = Math.fround(w[i] * shrink);
            const g = Math.fround(sign * grad[i] + l2 * wi);
            const mi = Math.fround(beta1 * m[i] + (1 - beta1) * g);
            const vi = Math.fround(beta2 * v[i] + (1 - beta2) * g * g);
            m[i] = mi;
            v[i] = vi;
            const second = vmax[i] > vi ? vmax[i] : (vmax[i] = vi);
            const denom = Math.fround(Math.fround(Math.sqrt(second) / correction2Sqrt) + eps);
            w[i] = wi - stepSize * (mi / denom);
          }
        } else {
          for (let i = 0; i < n; i++) {
            const wi = Math.fround(w[i] * shrink);
            const g = Math.fround(sign * grad[i] + l2 * wi);
            const mi = Math.fround(beta1 * m[i] + (1 - beta1) * g);
            const vi = Math.fround(beta2 * v[i] + (1 - beta2) * g * g);
            m[i] = mi;
            v[i] = vi;
            const denom = Math.fround(Math.fround(Math.sqrt(vi) / correction2Sqrt) + eps);
            w[i] = wi - stepSize * (mi / denom);
          }
        }
        this.touched(p);
      }
    }
  }
}
