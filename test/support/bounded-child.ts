import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository's src/, as a file URL prefix for imports in a child's source. */
export const SRC = pathToFileURL(resolve(import.meta.dirname, '..', '..', 'src')).href;

export interface ChildResult {
  /** What the child printed last on stdout, parsed as JSON; null when it printed none. */
  result: unknown;
  /** Peak resident memory of the child, in MB. */
  peakRssMb: number;
  seconds: number;
  timedOut: boolean;
  code: number | null;
  stderr: string;
}

/**
 * Runs TypeScript `source` as a module in a child Node process, killed after `timeoutMs`: a test of
 * something that could hang or take the machine's memory stays bounded, and the child's peak RSS
 * is measured apart from the test runner's. The source should print its result as one JSON line.
 */
export async function runBounded(source: string, timeoutMs: number): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'graft-child-'));
  const script = join(dir, 'child.mts');
  // The peak RSS is printed by the child itself on exit, whatever the source prints.
  writeFileSync(script, `${source}\nprocess.on('exit', () => process.stderr.write('\\npeak-rss-kb ' + process.resourceUsage().maxRSS + '\\n'));\n`);
  const started = performance.now();
  try {
    return await new Promise<ChildResult>((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
      child.on('error', fail);
      child.on('close', (code) => {
        clearTimeout(timer);
        const last = stdout.trim().split('\n').pop() ?? '';
        let result: unknown = null;
        try { result = JSON.parse(last); } catch { /* no JSON line: the caller sees null and stderr */ }
        const rss = /peak-rss-kb (\d+)/.exec(stderr);
        done({ result, peakRssMb: rss ? Number(rss[1]) / 1024 : NaN, seconds: (performance.now() - started) / 1000, timedOut, code, stderr });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
