import { apply, defineOp, type OpDef } from '../op.ts';
import { check } from '../errors.ts';
import { int } from '../emit.ts';
import { numel } from '../tensor.ts';

type RowsAttrs = { indices: number[]; indexShape: number[] };

function checkIndices(rows: number, { indices, indexShape }: RowsAttrs): void {
  check(numel(indexShape) === indices.length, () => `index shape [${indexShape}] does not hold ${indices.length} indices`);
  check(indices.every((i) => Number.isInteger(i) && i >= 0 && i < rows), () => `indices must be integers in 0..${rows - 1}`);
}

/**
 * table[indices] along axis 0 with indices fixed when the graph is built (torch.index_select,
 * `table[index]`): the relative position bias of windowed attention, a learned table read through
 * an index grid that depends only on the window's size. The gradient adds each output row back to
 * the row it was read from.
 */
export const gatherRows: OpDef<RowsAttrs> = defineOp<RowsAttrs>({
  name: 'gather_rows',
  shape: ([table], attrs) => {
    check(table.ndim >= 1, 'expected a table with at least one axis but received a scalar');
    checkIndices(table.shape[0], attrs);
    return { shape: [...attrs.indexShape, ...table.shape.slice(1)] };
  },
  emit: (ctx, [table], { indices, indexShape }) => ctx.node('Gather', [table, ctx.constant(indices, indexShape, 'int64')], { axis: int(0) }),
  grad: (g, _out, [table], attrs) => [apply(scatterAddRows, [g], { ...attrs, rows: table.shape[0] })],
});

/**
 * The transpose of gatherRows: a zero table of `rows` rows to which every row of `updates` is
 * added at its index; repeated indices sum (ScatterND with reduction 'add').
 */
export const scatterAddRows: OpDef<RowsAttrs & { rows: number }> = defineOp<RowsAttrs & { rows: number }>({
  name: 'scatter_add_rows',
  shape: ([updates], attrs) => {
    checkIndices(attrs.rows, attrs);
    const lead = attrs.indexShape.length;
    check(updates.ndim >= lead && attrs.indexShape.every((d, i) => updates.shape[i] === d),
      () => `updates of shape [${updates.shape}] do not start with the index shape [${attrs.indexShape}]`);
    return { shape: [attrs.rows, ...updates.shape.slice(lead)] };
  },
  emit: (ctx, [updates], { indices, indexShape, rows }, out) => {
    const zeros = ctx.node('ConstantOfShape', [ctx.int64s([rows, ...out.shape.slice(1)])]);
    return ctx.node('ScatterND', [zeros, ctx.constant(indices, [...indexShape, 1], 'int64'), updates], { reduction: { string: 'add' } });
  },
  grad: (g, _out, _inputs, { indices, indexShape }) => [apply(gatherRows, [g], { indices, indexShape })],
});
