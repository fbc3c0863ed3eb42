import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import sharp from 'sharp';
import { DecodeError } from './decode.ts';
import { loadSample } from './sample.ts';
import './index.ts'; // registers every transform so specs can be rebuilt here
import { transformFromSpec, type TransformSpec } from './transforms/transform.ts';
import type { Slot } from './worker-pool.ts';

/** Runs decode + transform for the loader off the main thread; replies carry transferred buffers. */
interface Task { id: number; file: string | Uint8Array; seeds: number[]; slot?: Slot }
/** Serves one loader's tasks; started only when this file runs as the loader's worker thread. */
function serve(port: MessagePort): void {
  const { spec, maxPixels, nativeCrop } = workerData as { spec: TransformSpec | null; maxPixels?: number; nativeCrop: boolean };
  const transform = spec ? transformFromSpec(spec) : undefined;
  // One libvips thread per image: the loader already decodes one image per worker thread in parallel.
  sharp.concurrency(1);
  sharp.cache(false);

  port.on('message', async (task: Task) => {
    try {
      const out = task.slot ? new Float32Array(task.slot.buffer, task.slot.offset * 4, task.slot.length) : undefined;
      const t = await loadSample(task.file, transform, task.seeds, { maxPixels, nativeCrop, syncRead: true, out });
      const shape = [t.channels, t.height, t.width];
      // Written into the shared batch slot: nothing to send back but the shape.
      if (out && t.data === out) port.postMessage({ id: task.id, shape, inSlot: true });
      else port.postMessage({ id: task.id, shape, data: t.data }, [t.data.buffer as ArrayBuffer]);
    } catch (error) {
      const bad = error instanceof DecodeError;
      port.postMessage({ id: task.id, error: { bad, file: bad ? error.file : typeof task.file === 'string' ? task.file : '<buffer>', message: bad ? error.reason : String((error as Error).stack ?? error) } });
    }
  });
}

if (parentPort && workerData) serve(parentPort);
