import { createModel } from '../src/models/registry.ts';
import { tensor } from '../src/graph/tensor.ts';
import { releaseSessions } from '../src/runtime/index.ts';
import { normals } from '../src/nn/init.ts';

/**
 * Inference speed of a zoo model: eval mode, frozen weights (so they compile as constants),
 * batch of random images, the same protocol as the PyTorch reference (1 warm-up, then 3 runs).
 */
export async function benchForward(arch: string, batch: number, runs = 3): Promise<number> {
  const model = await createModel(arch);
  model.eval().requiresGrad_(false);
  const x = normals(batch * 3 * 224 * 224, 0, 1);
  const once = () => model.forward(tensor(x, [batch, 3, 224, 224])).data();
  await once();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await once();
  const ms = (performance.now() - t0) / runs / batch;
  await releaseSessions();
  return ms;
}
