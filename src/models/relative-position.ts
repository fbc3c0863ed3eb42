import type { Tensor } from '../graph/tensor.ts';
import type { Buffer } from '../nn/index.ts';
import * as F from '../nn/functional.ts';

/**
 * Windowed attention's relative position bias (Swin, Swin V2 and MaxViT): a learned table of one
 * row per offset between two cells of a size x size window, read through a fixed index grid.
 */

/**
 * torchvision's relative_position_index for a size x size window: entry (i, j) is the row of the
 * (2 size - 1)^2 table for the offset from cell j to cell i, (dy + size - 1) * (2 size - 1) + dx + size - 1.
 */
export function relativePositionIndex(size: number): BigInt64Array {
  const n = size * size;
  const out = new BigInt64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / size) - Math.floor(j / size) + size - 1;
      const dx = (i % size) - (j % size) + size - 1;
      out[i * n + j] = BigInt(dy * (2 * size - 1) + dx);
    }
  }
  return out;
}

/** The table [(2 size - 1)^2, heads] read through the index buffer: each head's bias, [heads, size^2, size^2]. */
export function relativePositionBias(table: Tensor, index: Buffer, size: number): Tensor {
  const n = size * size;
  const rows = Array.from(index.value as BigInt64Array, Number);
  return F.permute(F.indexSelect(table, rows, [n, n]), [2, 0, 1]);
}
