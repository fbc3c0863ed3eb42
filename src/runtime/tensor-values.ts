import { Tensor, numel, type TensorData } from '../graph/tensor.ts';
import { currentRuntime } from './runtime.ts';
import { invalidType, received } from '../errors/index.ts';

/**
 * The methods that compute a tensor's values, on the prototype: `await x.data()` runs the graph
 * that produces x in the runtime the calling code runs in (see Runtime.run).
 */
declare module '../graph/tensor.ts' {
  interface Tensor {
    /** Computes the tensor (and everything it depends on) and returns its values. */
    data(): Promise<TensorData>;
    /** Float values as a Float32Array; throws for int64 tensors. */
    floats(): Promise<Float32Array>;
    /** Nested arrays of numbers, as torch's `tolist()`. */
    tolist(): Promise<unknown>;
    /** A scalar's value. */
    item(): Promise<number>;
  }
}

Object.assign(Tensor.prototype, {
  async data(this: Tensor): Promise<TensorData> {
    if (this.value) return this.value;
    await currentRuntime().realize([this]);
    return this.value!;
  },
  async floats(this: Tensor): Promise<Float32Array> {
    const v = await this.data();
    if (!(v instanceof Float32Array)) throw invalidType('floats()', 'a float32 tensor', received(`a ${this.dtype} tensor`));
    return v;
  },
  async tolist(this: Tensor): Promise<unknown> {
    const v = await this.data();
    const flat = Array.from(v as ArrayLike<number | bigint>, Number);
    const nest = (dims: readonly number[], offset: number): unknown => {
      if (dims.length === 0) return flat[offset];
      const stride = numel(dims.slice(1));
      return Array.from({ length: dims[0] }, (_, i) => nest(dims.slice(1), offset + i * stride));
    };
    return nest(this.shape, 0);
  },
  async item(this: Tensor): Promise<number> {
    if (this.size !== 1) throw new RangeError(`item() needs a tensor with one element, this one has shape [${this.shape}]`);
    return Number((await this.data())[0]);
  },
});
