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

/**
 * Runs a reference script and parses the last JSON line it prints, adding the process's peak RSS
 * (`peak_rss_mb`); null when PyTorch is absent.
 */
export function runPython(script: string, args: string[]): Record<string, unknown> | null {
  if (!hasTorch() || !existsSync(script)) return null;
  const wrapper = 'import json, resource, runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__"); '
    + 'print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))';
  const r = spawnSync(PYTHON, ['-c', wrapper, script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    process.stderr.write(`reference ${script} failed: ${r.stderr.slice(-2000)}\n`);
    return null;
  }
  const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  return lines.length ? Object.assign({}, ...lines) : null;
}

/** PyTorch's forward / frozen-head step / full step timings for one architecture (../shared/refs/pytorch_speed.py). */
const speedCache = new Map<string, Record<string, number> | null>();
export function pytorchSpeed(arch: string, batch: number, threads: number, opts: { fresh?: boolean } = {}): Record<string, number> | null {
  const key = `${arch}/${batch}/${threads}`;
  if (!speedCache.has(key) || opts.fresh) {
    const reference = resolve(SHARED, 'refs', 'pytorch_speed.py');
    // Through a wrapper that finds the head of every family (see pytorch_speed_heads.py).
    const result = existsSync(reference) ? runPython(resolve(import.meta.dirname, 'pytorch_speed_heads.py'), [reference, arch, String(batch), String(threads)]) : null;
    speedCache.set(key, result as Record<string, number> | null);
  }
  return speedCache.get(key)!;
}
