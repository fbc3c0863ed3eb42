import { apply, defineOp, type OpDef } from '../op.ts';
import { check } from '../errors.ts';
import { ints } from '../emit.ts';

/**
 * torch.nn.functional.channel_shuffle: the channels (axis 1) read as a (groups, C/groups) grid and
 * written out by columns, so output channel j*groups + i is input channel i*(C/groups) + j.
 * ShuffleNetV2 runs it after every block. One op rather than torchvision's view, transpose and view:
 * its gradient is the inverse shuffle (C/groups groups), one node instead of three.
 */
export const channelShuffle: OpDef<{ groups: number }> = defineOp<{ groups: number }>({
  name: 'channel_shuffle',
  shape: ([x], { groups }) => {
    check(x.ndim >= 3, () => `expected an input with at least 3 dimensions (N, C, ...) but received ${x.ndim}-D`);
    check(Number.isInteger(groups) && groups >= 1 && x.shape[1] % groups === 0,
      () => `${x.shape[1]} channels do not divide into ${groups} groups`);
    return { shape: [...x.shape] };
  },
  emit: (ctx, [x], { groups }, out) => {
    const [n, c, ...rest] = out.inputs[0].shape;
    // Reshape's 0 keeps the input's batch, so an exported graph runs at any batch size.
    const batch = ctx.symbolicBatch ? 0 : n;
    const grid = ctx.node('Reshape', [x, ctx.int64s([batch, groups, c / groups, ...rest])]);
    const swapped = ctx.node('Transpose', [grid], { perm: ints([0, 2, 1, ...rest.map((_, i) => i + 3)]) });
    return ctx.node('Reshape', [swapped, ctx.int64s([batch, c, ...rest])]);
  },
  grad: (g, _out, [x], { groups }) => [apply(channelShuffle, [g], { groups: x.shape[1] / groups })],
});
