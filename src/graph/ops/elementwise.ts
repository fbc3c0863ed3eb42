import { apply, defineOp, type OpDef } from '../op.ts';
import { scalar, type Tensor } from '../tensor.ts';
import { check } from '../errors.ts';
import { float, int } from '../emit.ts';
import { broadcastShapes } from './broadcast.ts';
import { recomputedBatchNorm } from './batchnorm.ts';

type GradRule = NonNullable<OpDef<{}>['grad']>;

/** Ops applied value by value: the output has the input's shape. */
function unary(name: string, onnx: string, grad: GradRule | undefined, attrs: () => Record<string, ReturnType<typeof float>> = () => ({})): OpDef<{}> {
  return defineOp<{}>({
    name,
    shape: ([x]) => ({ shape: [...x.shape] }),
    emit: (ctx, [x]) => ctx.node(onnx, [x], attrs()),
    grad,
  });
}

/** Broadcasting binary ops. Gradients are given at the output's shape; the walker sums them back to each input's. */
function binary(name: string, onnx: string, grad: GradRule): OpDef<{}> {
  return defineOp<{}>({
    name,
    shape: ([a, b]) => {
      check(a.dtype === b.dtype, () => `dtypes differ: ${a.dtype} and ${b.dtype}`);
      return { shape: broadcastShapes(a.shape, b.shape) };
    },
    emit: (ctx, [a, b]) => ctx.node(onnx, [a, b]),
    grad,
  });
}

export const add = binary('add', 'Add', (g) => [g, g]);
export const sub = binary('sub', 'Sub', (g) => [g, g.neg()]);
export const mul = binary('mul', 'Mul', (g, _out, [a, b]) => [g.mul(b), g.mul(a)]);
// d(a/b)/db = -a/b^2 = -out/b
export const div = binary('div', 'Div', (g, out, [, b]) => [g.div(b), g.mul(out).div(b).neg()]);

export const neg = unary('neg', 'Neg', (g) => [g.neg()]);
export const exp = unary('exp', 'Exp', (g, out) => [g.mul(out)]);
export const log = unary('log', 'Log', (g, _out, [x]) => [g.div(x)]);
export const sqrt = unary('sqrt', 'Sqrt', (g, out) => [g.mul(0.5).div(out)]);
/** The sign has no gradient (zero almost everywhere). */
export const sign = unary('sign', 'Sign', () => [null]);
export const abs = unary('abs', 'Abs', (g, _out, [x]) => [g.mul(apply(sign, [x], {}))]);
// PyTorch's relu passes the gradient where the output is positive (none at 0).
export const relu = unary('relu', 'Relu', (g, out) => [gated(g, out, 0, Infinity)]);

export const sigmoid = unary('sigmoid', 'Sigmoid', (g, out) => [g.mul(out.mul(scalar(1).sub(out)))]);

/**
 * SiLU, x * sigmoid(x), as one op whose gradient, sigmoid(x) * (1 + x * (1 - sigmoid(x))),
 * computes the sigmoid again from x: x * sigmoid(x) composed of two ops keeps a full-size sigmoid
 * of every activation alive from the forward to the backward (see bench/NOTES.md, "EfficientNet's
 * peak memory"). Graphs graft runs itself get ONNX Runtime's one-node form (QuickGelu with alpha
 * 1), so that its common-subexpression pass finds no forward Sigmoid to merge the backward's with.
 * Where x is a train-mode batch norm's output, the gradient reads it recomputed from the batch
 * norm's input and batch statistics (`recomputedBatchNorm`), so x itself is not kept either.
 */
export const silu = defineOp<{}>({
  name: 'silu',
  shape: ([x]) => ({ shape: [...x.shape] }),
  emit: (ctx, [x]) => (ctx.standardOps ? ctx.node('Mul', [x, ctx.node('Sigmoid', [x])]) : ctx.runtimeNode('QuickGelu', [x], { alpha: float(1) })),
  grad: (g, _out, [x]) => {
    const input = recomputedBatchNorm(x);
    const s = apply(sigmoid, [input], {});
    return [g.mul(s.mul(input.mul(scalar(1).sub(s)).add(1)))];
  },
});
// hardswish(x) = x * relu6(x + 3) / 6: slope 0 below -3, x/3 + 1/2 inside, 1 above 3.
export const hardswish = unary('hardswish', 'HardSwish', (g, _out, [x]) => [
  (gated(g.mul(x.div(3).add(0.5)), x, -3, 3)).add(gated(g, x, 3, Infinity)),
]);
/** PyTorch's hardsigmoid is relu6(x + 3) / 6. */
export const hardsigmoid = unary('hardsigmoid', 'HardSigmoid', (g, _out, [x]) => [gated(g, x, -3, 3).mul(1 / 6)],
  () => ({ alpha: float(1 / 6), beta: float(0.5) }));

/**
 * clamp(x, min, max); relu6 is clip(0, 6). The gradient passes strictly inside (min, max), as
 * PyTorch's hardtanh (ReLU6) does.
 */
export const clip = defineOp<{ min: number; max: number }>({
  name: 'clip',
  shape: ([x], { min, max }) => {
    check(min <= max, `min ${min} is greater than max ${max}`);
    return { shape: [...x.shape] };
  },
  emit: (ctx, [x], { min, max }) => ctx.node('Clip', [x, ctx.constant([min], []), ctx.constant([max], [])]),
  grad: (g, _out, [x], { min, max }) => [gated(g, x, min, max)],
});

/**
 * g where lo < x < hi, 0 elsewhere (infinite bounds are open): the gradient of every piecewise
 * linear activation. The mask is a function of x only, so its own gradient passes g's the same way.
 */
export const gate = defineOp<{ lo: number; hi: number }>({
  name: 'gate',
  shape: ([g, x]) => {
    check(g.shape.length === x.shape.length && g.shape.every((d, i) => d === x.shape[i]), () => `gradient [${g.shape}] and input [${x.shape}] differ`);
    return { shape: [...g.shape] };
  },
  emit: (ctx, [g, x], { lo, hi }) => {
    const conds: string[] = [];
    if (Number.isFinite(lo)) conds.push(ctx.node('Greater', [x, ctx.constant([lo], [])]));
    if (Number.isFinite(hi)) conds.push(ctx.node('Less', [x, ctx.constant([hi], [])]));
    if (conds.length === 0) return ctx.node('Identity', [g]);
    const inside = conds.length === 2 ? ctx.node('And', conds) : conds[0];
    // g times the mask as 0/1 floats: ONNX Runtime's Where with a scalar is much slower than its
    // Mul (see bench/NOTES.md, "Gate: Mul against Where").
    return ctx.node('Mul', [g, ctx.node('Cast', [inside], { to: int(1) })]);
  },
  grad: (gg, _out, [, x], attrs) => [gated(gg, x, attrs.lo, attrs.hi), null],
});

function gated(g: Tensor, x: Tensor, lo: number, hi: number): Tensor {
  return apply(gate, [g, x], { lo, hi });
}

/** The error function; d erf(x)/dx = 2/sqrt(pi) * exp(-x^2). */
export const erf = unary('erf', 'Erf', (g, _out, [x]) => [g.mul(x.mul(x).neg().exp().mul(2 / Math.sqrt(Math.PI)))]);

/**
 * PyTorch's exact GELU, x * Phi(x) = x/2 * (1 + erf(x/sqrt(2))), emitted with Erf (ONNX's Gelu
 * node is opset 20, after the one graft emits) in the node order PyTorch's exporter writes,
 * Div by sqrt(2) included: that is the pattern ONNX Runtime fuses into one Gelu kernel.
 * d/dx = Phi(x) + x * phi(x).
 *
 * `recomputed`: the same value computed again in a backward pass, so that the forward's output
 * need not be kept (autodiff/rewrites/recompute-activations.ts). Graphs graft runs get ONNX
 * Runtime's Gelu node for it directly, a form its common-subexpression pass (which runs before
 * the Gelu fusion) does not merge with the forward's.
 */
export const gelu = defineOp<{ recomputed?: 1 }>({
  name: 'gelu',
  shape: ([x]) => ({ shape: [...x.shape] }),
  emit: (ctx, [x], { recomputed }) => {
    if (recomputed && !ctx.standardOps) return ctx.runtimeNode('Gelu', [x]);
    const phi = ctx.node('Add', [ctx.node('Erf', [ctx.node('Div', [x, ctx.constant([Math.SQRT2], [])])]), ctx.constant([1], [])]);
    return ctx.node('Mul', [ctx.node('Mul', [x, ctx.constant([0.5], [])]), phi]);
  },
  grad: (g, _out, [x]) => {
    const cdf = apply(erf, [x.mul(Math.SQRT1_2)], {}).add(1).mul(0.5);
    const pdf = x.mul(x).mul(-0.5).exp().mul(1 / Math.sqrt(2 * Math.PI));
    return [g.mul(cdf.add(x.mul(pdf)))];
  },
});

/** tanh; d tanh(x)/dx = 1 - tanh(x)^2. */
export const tanh = unary('tanh', 'Tanh', (g, out) => [g.mul(scalar(1).sub(out.mul(out)))]);

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/**
 * PyTorch's GELU with approximate='tanh': x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))), the
 * form timm's and some Hugging Face checkpoints were trained with. With u the tanh's argument and
 * t = tanh(u): d/dx = (1 + t)/2 + x/2 * (1 - t^2) * sqrt(2/pi) * (1 + 3 * 0.044715 x^2).
 */
export const geluTanh = defineOp<{}>({
  name: 'gelu_tanh',
  shape: ([x]) => ({ shape: [...x.shape] }),
  emit: (ctx, [x]) => {
    const cube = ctx.node('Mul', [ctx.node('Mul', [x, x]), x]);
    const inner = ctx.node('Mul', [ctx.node('Add', [x, ctx.node('Mul', [cube, ctx.constant([GELU_CUBIC], [])])]), ctx.constant([SQRT_2_OVER_PI], [])]);
    const half = ctx.node('Add', [ctx.node('Tanh', [inner]), ctx.constant([1], [])]);
    return ctx.node('Mul', [ctx.node('Mul', [x, ctx.constant([0.5], [])]), half]);
  },
  grad: (g, _out, [x]) => {
    const x2 = x.mul(x);
    const t = apply(tanh, [x.add(x2.mul(x).mul(GELU_CUBIC)).mul(SQRT_2_OVER_PI)], {});
    const du = x2.mul(3 * GELU_CUBIC).add(1).mul(SQRT_2_OVER_PI);
    const slope = t.add(1).mul(0.5).add(x.mul(0.5).mul(scalar(1).sub(t.mul(t))).mul(du));
    return [g.mul(slope)];
  },
});
