import './tensor-api.ts';
import { Tensor } from '../graph/tensor.ts';
import { invalidParameter, received } from '../errors/index.ts';

/**
 * A tensor a module learns. Trainable by default, as in PyTorch; `p.requiresGrad = false`
 * freezes it, and a frozen parameter compiles into the graph as a constant.
 */
export class Parameter extends Tensor {
  constructor(data: Float32Array, shape: readonly number[], requiresGrad = true) {
    super({ shape, dtype: 'float32', value: data, leafKind: 'state' });
    this._requiresGrad = requiresGrad;
  }

  override get requiresGrad(): boolean { return this._requiresGrad; }
  override set requiresGrad(v: boolean) { this._requiresGrad = v; }

  /** Replaces the values in place (same shape), so sessions holding the old values are recompiled. */
  assign(data: Float32Array): void {
    if (data.length !== this.size) throw invalidParameter(`shape [${this.shape}]`, `${this.size} values`, received(`${data.length} values`));
    this.value = data;
    this.version++;
  }
}

/** State a module keeps but does not learn by gradient, such as batch norm's running statistics. */
export class Buffer extends Tensor {
  constructor(data: Float32Array | BigInt64Array, shape: readonly number[]) {
    super({ shape, dtype: data instanceof BigInt64Array ? 'int64' : 'float32', value: data, leafKind: 'state' });
  }

  override get requiresGrad(): boolean { return false; }
  override set requiresGrad(v: boolean) {
    if (v) throw new TypeError('A buffer holds running state and cannot require gradients');
  }

  assign(data: Float32Array | BigInt64Array): void {
    if (data.length !== this.size) throw invalidParameter(`shape [${this.shape}]`, `${this.size} values`, received(`${data.length} values`));
    this.value = data;
    this.version++;
  }
}
