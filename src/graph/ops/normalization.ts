import { apply, defineOp, type OpDef } from '../op.ts';
import { gate } from './elementwise.ts';
import { scalar, type Tensor } from '../tensor.ts';
import { check } from '../errors.ts';
import { float, int } from '../emit.ts';

/**
 * Layer norm over the last `dims` axes, with an elementwise affine weight and bias of those axes'
 * shape: PyTorch's layer_norm with normalized_shape = x.shape[-dims:]. One LayerNormalization node
 * (opset 17). The gradient is the closed form, written with primitives so it differentiates again.
 *
 * `recomputed`: the same value computed again in a backward pass, so that the forward's output
 * need not be kept (autodiff/rewrites/recompute-activations.ts). Its node spells out the default
 * `stash_type`, so that ONNX Runtime's common-subexpression pass, which compares attributes as
 * written, does not merge it with the forward's.
 */
export const layerNorm: OpDef<{ dims: number; eps: number; recomputed?: 1 }> = defineOp<{ dims: number; eps: number; recomputed?: 1 }>({
  name: 'layer_norm',
  shape: ([x, weight, bias], { dims }) => {
    check(Number.isInteger(dims) && dims >= 1 && dims <= x.ndim, () => `cannot normalize the last ${dims} axes of a ${x.ndim}-D input`);
    const normalized = x.shape.slice(x.ndim - dims);
    for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
      check(t.ndim === dims && t.shape.every((d, i) => d === normalized[i]), () => `${name} of shape [${t.shape}] does not match the normalized shape [${normalized}]`);
    }
    return { shape: [...x.shape] };
  },
  emit: (ctx, [x, weight, bias], { dims, eps, recomputed }) => ctx.node('LayerNormalization', [x, weight, bias], {
    axis: int(-dims), epsilon: float(eps), ...(recomputed ? { stash_type: int(1) } : {}),
  }),
  grad: (g, _out, [x, weight], { dims, eps }) => {
    const axes = x.shape.map((_, i) => i).slice(x.ndim - dims);
    const lead = x.shape.map((_, i) => i).slice(0, x.ndim - dims);
    const mean = x.mean(axes, true);
    const centered = x.sub(mean);
    const rstd = scalar(1).div(centered.mul(centered).mean(axes, true).add(eps).sqrt());
    const xhat = centered.mul(rstd);
    const gxhat = g.mul(weight);
    // dx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)) over the normalized axes.
    const dx = gxhat.sub(gxhat.mean(axes, true)).sub(xhat.mul(gxhat.mul(xhat).mean(axes, true))).mul(rstd);
    const sumLead = (t: Tensor) => (lead.length ? t.sum(lead) : t);
    return [dx, sumLead(g.mul(xhat)), sumLead(g)];
  },
});

/**
 * x / max(||x||_2, eps) along `axis`: torch.nn.functional.normalize with p = 2, Swin V2's cosine
 * attention. Its own op because composing it from Sqrt would give NaN gradients for an all-zero
 * row (a padded token's key), where PyTorch's rule, like this one, passes g / eps: below eps the
 * clamp makes the divisor a constant, and only the division remains.
 */
export const l2Normalize: OpDef<{ axis: number; eps: number }> = defineOp<{ axis: number; eps: number }>({
  name: 'l2_normalize',
  shape: ([x], { axis, eps }) => {
    check(Number.isInteger(axis) && axis >= 0 && axis < x.ndim, () => `axis ${axis} is out of range for a ${x.ndim}-D input`);
    check(eps > 0, () => `eps must be positive but is ${eps}`);
    return { shape: [...x.shape] };
  },
  emit: (ctx, [x], { axis, eps }) => {
    const norm = ctx.node('Sqrt', [ctx.node('ReduceSum', [ctx.node('Mul', [x, x]), ctx.int64s([axis])], { keepdims: int(1) })]);
    return ctx.node('Div', [x, ctx.node('Max', [norm, ctx.constant([eps], [])])]);
  },
  grad: (g, out, [x], { axis, eps }) => {
    const norm = x.mul(x).sum(axis, true).sqrt();
    // d(x / n)/dx = (g - y * sum(g * y)) / n where the norm n exceeds eps; g / eps where it does not.
    const along = apply(gate, [g.mul(out).sum(axis, true), norm], { lo: eps, hi: Infinity });
    return [g.sub(out.mul(along)).div(norm.clamp(eps, Infinity))];
  },
});
