import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The reference material beside the repository, when it is there. */
export const SHARED = resolve(import.meta.dirname, '..', '..', 'shared');
/** Debian's python with torch; the python on PATH may lack it. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

let torchAvailable: boolean | undefined;

export function hasTorch(): boolean {
  torchAvailable ??= spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0;
  return torchAvailable;
}

/** Runs a reference script and parses the last JSON line it prints; null when PyTorch is absent. */
export function runPython(script: string, args: string[]): Record<string, unknown> | null {
  if (!hasTorch() || !existsSync(script)) return null;
  const r = spawnSync(PYTHON, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    process.stderr.write(`reference ${script} failed: ${r.stderr.slice(-2000)}\n`);
    return null;
  }
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return line ? JSON.parse(line) : null;
}

/** PyTorch's forward / frozen-head step / full step timings for one architecture (../shared/refs/pytorch_speed.py). */
const speedCache = new Map<string, Record<string, number> | null>();
export function pytorchSpeed(arch: string, batch: number, threads: number): Record<string, number> | null {
  const key = `${arch}/${batch}/${threads}`;
  if (!speedCache.has(key)) {
    speedCache.set(key, runPython(resolve(SHARED, 'refs', 'pytorch_speed.py'), [arch, String(batch), String(threads)]) as Record<string, number> | null);
  }
  return speedCache.get(key)!;
}
