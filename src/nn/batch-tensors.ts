import { Batch } from '../data/batch.ts';
import { labels, tensor, type Tensor } from '../graph/tensor.ts';

/**
 * `for await (const [x, y] of loader)`, as with torch's DataLoader: a batch destructures into the
 * images as an NCHW tensor and the labels as an int64 tensor (float multi-hot [N, C] for
 * multi-label datasets). The tensors are made only when asked for, so loops that read
 * `batch.images` directly pay nothing.
 */
declare module '../data/batch.ts' {
  interface Batch {
    [Symbol.iterator](): Iterator<Tensor>;
  }
}

Object.defineProperty(Batch.prototype, Symbol.iterator, {
  configurable: true,
  writable: true,
  *value(this: Batch): Generator<Tensor> {
    yield tensor(this.images, this.shape);
    yield this.labels instanceof Int32Array ? labels(this.labels) : tensor(this.labels, [this.shape[0], this.labels.length / this.shape[0]]);
  },
});
