import { defineOp, type OpDef } from '../op.ts';
import { check } from '../errors.ts';
import { float } from '../emit.ts';
import { broadcastShapes } from './broadcast.ts';

/** Ops applied value by value: the output has the input's shape. */
function unary(name: string, onnx: string, attrs: () => Record<string, ReturnType<typeof float>> = () => ({})): OpDef<{}> {
  return defineOp<{}>({
    name,
    shape: ([x]) => ({ shape: [...x.shape] }),
    emit: (ctx, [x]) => ctx.node(onnx, [x], attrs()),
  });
}

function binary(name: string, onnx: string): OpDef<{}> {
  return defineOp<{}>({
    name,
    shape: ([a, b]) => {
      check(a.dtype === b.dtype, () => `dtypes differ: ${a.dtype} and ${b.dtype}`);
      return { shape: broadcastShapes(a.shape, b.shape) };
    },
    emit: (ctx, [a, b]) => ctx.node(onnx, [a, b]),
  });
}

export const add = binary('add', 'Add');
export const sub = binary('sub', 'Sub');
export const mul = binary('mul', 'Mul');
export const div = binary('div', 'Div');

export const neg = unary('neg', 'Neg');
export const exp = unary('exp', 'Exp');
export const log = unary('log', 'Log');
export const sqrt = unary('sqrt', 'Sqrt');
export const abs = unary('abs', 'Abs');
export const relu = unary('relu', 'Relu');
export const sigmoid = unary('sigmoid', 'Sigmoid');
export const hardswish = unary('hardswish', 'HardSwish');
/** PyTorch's hardsigmoid is relu6(x + 3) / 6. */
export const hardsigmoid = unary('hardsigmoid', 'HardSigmoid', () => ({ alpha: float(1 / 6), beta: float(0.5) }));

/** clamp(x, min, max); relu6 is clip(0, 6). */
export const clip = defineOp<{ min: number; max: number }>({
  name: 'clip',
  shape: ([x], { min, max }) => {
    check(min <= max, `min ${min} is greater than max ${max}`);
    return { shape: [...x.shape] };
  },
  emit: (ctx, [x], { min, max }) => ctx.node('Clip', [x, ctx.constant([min], []), ctx.constant([max], [])]),
});
