import { DataLoader as ImageLoader, type Batch } from '../data/loader.ts';
import { tensor, labels, type Tensor } from '../graph/tensor.ts';

/** A loader batch that also destructures into its [images, labels] tensors. */
export type TensorBatch = Batch & Iterable<Tensor>;

function withTensors(b: Batch): TensorBatch {
  return Object.defineProperty(b, Symbol.iterator, {
    enumerable: false,
    *value() {
      yield tensor(b.images, b.shape);
      yield b.labels instanceof Int32Array ? labels(b.labels) : tensor(b.labels, [b.shape[0], b.labels.length / b.shape[0]]);
    },
  }) as TensorBatch;
}

/**
 * torch.utils.data.DataLoader for training loops: `for await (const [x, y] of loader)` gives the
 * images as an NCHW tensor and the labels as an int64 tensor (float multi-hot for multi-label
 * datasets); `batch.images`, `batch.labels` and `batch.files` stay available as plain arrays.
 */
export class DataLoader extends ImageLoader {
  override async *[Symbol.asyncIterator](): AsyncGenerator<TensorBatch> {
    for await (const b of { [Symbol.asyncIterator]: () => super[Symbol.asyncIterator]() }) yield withTensors(b);
  }
}
