/**
 * The whole Tensor API (chained ops, `data()`, `backward()`, batches that destructure into
 * tensors) for code from nn up: the graph layer defines what a tensor is, and the layers above it
 * add what needs them (see graph/tensor.ts).
 */
import '../graph/tensor-methods.ts';
import '../runtime/tensor-values.ts';
import '../runtime/backward.ts';
import './batch-tensors.ts';
