import type { Tensor } from '../../graph/tensor.ts';
import { apply } from '../../graph/op.ts';
import { gate, maxPool2d, maxPool2dGrad, type PoolAttrs } from '../../graph/ops/index.ts';
import type { RewriteContext } from './rewrite-graph.ts';

type GateAttrs = { lo: number; hi: number };

/**
 * An activation's gate on a max pool's gradient, moved before the pool's gradient, to act at the
 * pooled size: `gate(maxPool2dGrad(gy, x), x)` becomes `maxPool2dGrad(gate(gy, maxPool2d(x)), x)`.
 * In ResNet's stem (a relu, then a 3x3 stride-2 pool) that gates a quarter as many values.
 *
 * Exact: each window's gradient lands on the place of the window's maximum, and the gate's mask
 * there reads x at that place, which is the window's pooled value. The pool applied again is the
 * forward's (ONNX Runtime merges the two). Only where the full-size gradient has no other use,
 * so that it is never formed.
 */
export function gateAtPooledSize(node: Tensor, graph: RewriteContext): Tensor | null {
  if (node.op !== gate) return null;
  const [scattered, x] = node.inputs;
  if (scattered.op !== maxPool2dGrad || scattered.value !== null || scattered.inputs[1] !== x) return null;
  if (!graph.usedOnlyBy(scattered, (reader) => reader === node)) return null;
  const pool = scattered.attrs as PoolAttrs;
  const input = graph.current(x);
  const pooled = apply(maxPool2d, [input], pool);
  return apply(maxPool2dGrad, [apply(gate, [graph.current(scattered.inputs[0]), pooled], node.attrs as GateAttrs), input], pool);
}
