/**
 * Reads one hostile file in a child process and reports how it ended, how long it took and the
 * child's peak memory, so a test can bound both without the reader taking the test runner down.
 *
 *   node --import tsx test/support/read-in-child.ts <weights|unpickle|onnx|model> <file> [arg]
 *
 * For `weights`, arg is a JSON file of the model's state dict spec as [key, { dtype, shape }]
 * pairs; for `model`, the zoo architecture built with 3 classes and the file as its weights.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ChildResult {
  /** The error's message, or null when the file was read. */
  error: string | null;
  ms: number;
  maxRssMiB: number;
}

const SELF = fileURLToPath(import.meta.url);

/** Runs the reader in a child with a wall-clock limit; a child killed by it fails the caller. */
export function readInChild(kind: 'weights' | 'unpickle' | 'onnx' | 'model', file: string, arg?: string, timeoutMs = 60_000): ChildResult {
  const args = ['--import', 'tsx', SELF, kind, file, ...(arg ? [arg] : [])];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: timeoutMs });
  if (child.error || child.status !== 0) {
    throw new Error(`the reader child ended with ${child.error?.message ?? `status ${child.status}, signal ${child.signal}`}:\n${child.stderr}`);
  }
  const lines = child.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as ChildResult;
}

async function main(kind: string, file: string, arg: string | undefined): Promise<void> {
  const started = performance.now();
  let error: string | null = null;
  try {
    if (kind === 'weights') {
      const { readWeightsFile } = await import('../../src/formats/weights-file.ts');
      const expected = arg ? new Map(JSON.parse(readFileSync(arg, 'utf8'))) : undefined;
      await readWeightsFile(file, { expected: expected as never, onNote: () => {} });
    } else if (kind === 'unpickle') {
      const { unpickle } = await import('../../src/formats/pickle.ts');
      unpickle(readFileSync(file), { file });
    } else if (kind === 'onnx') {
      const { importOnnx } = await import('../../src/formats/onnx-import.ts');
      await importOnnx(file);
    } else if (kind === 'model') {
      const { createModel } = await import('../../src/models/registry.ts');
      await createModel(arg!, { weights: file, numClasses: 3 });
    } else {
      throw new Error(`unknown kind ${kind}`);
    }
  } catch (e) {
    error = (e as Error).message;
  }
  const ms = Math.round(performance.now() - started);
  const maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify({ error, ms, maxRssMiB } satisfies ChildResult)}\n`);
}

if (process.argv[1] === SELF) await main(process.argv[2], process.argv[3], process.argv[4]);
