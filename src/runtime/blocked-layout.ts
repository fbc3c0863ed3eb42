import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../graph/emit.ts';
import type { Executable } from './session.ts';

/**
 * The channel block of ONNX Runtime's blocked (NCHWc) CPU kernels on this machine (16 with AVX-512,
 * 8 with AVX2), or 0 where they are missing. It depends on the CPU, so it is asked of the runtime
 * itself (reordering 4 channels pads them to one block); a Runtime asks once and keeps the answer.
 */
export async function probeBlockedLayout(createSession: (bytes: Uint8Array) => Promise<Executable>): Promise<number> {
  try {
    const b = new GraphBuilder();
    b.addInput({ name: 'x', dtype: 'float32', shape: [1, 4, 1, 1] });
    b.alias(b.blockedNode('ReorderInput', ['x']), 'y');
    b.addOutput({ name: 'y', dtype: 'float32', shape: null });
    const session = await createSession(b.serialize());
    try {
      const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
      const block = y.dims[1];
      return block === 8 || block === 16 ? block : 0;
    } finally {
      await session.release();
    }
  } catch {
    return 0;
  }
}
