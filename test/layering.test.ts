import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');

function cruise(cwd: string): { status: number | null; output: string } {
  const r = spawnSync(depcruise, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('src/ has no import cycle and every folder uses only the layers below it', () => {
  const { status, output } = cruise(root);
  assert.equal(status, 0, output);
});

test('the layering check fails on a cycle and on an import from a higher layer', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'graft-layers-'));
  try {
    copyFileSync(path.join(root, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
    copyFileSync(path.join(root, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
    for (const d of ['graph', 'nn']) mkdirSync(path.join(dir, 'src', d), { recursive: true });
    writeFileSync(path.join(dir, 'src/graph/a.ts'), "import { b } from './b.ts';\nexport const a = () => b;\n");
    writeFileSync(path.join(dir, 'src/graph/b.ts'), "import { a } from './a.ts';\nimport { n } from '../nn/n.ts';\nexport const b = () => [a, n];\n");
    writeFileSync(path.join(dir, 'src/nn/n.ts'), 'export const n = 1;\n');
    const { status, output } = cruise(dir);
    assert.notEqual(status, 0);
    assert.match(output, /no-circular/);
    assert.match(output, /layer-graph: src\/graph\/b\.ts → src\/nn\/n\.ts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface CruisedModule { source: string; dependencies: { resolved: string; dynamic: boolean }[] }

/**
 * The files that start an evaluation of src/: those no other file imports, the targets of dynamic
 * imports (evaluated later, on their own), and what the CLI's entry point imports (that entry is
 * not imported itself: it runs the CLI). With no import cycle (the first test), a module's
 * evaluation reads only its own imports, evaluated before it whatever imported them first, so
 * importing each of these alone evaluates every file of src/ exactly as importing that file first.
 */
function evaluationEntries(): string[] {
  const r = spawnSync(depcruise, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const modules = (JSON.parse(r.stdout) as { modules: CruisedModule[] }).modules.filter((m) => m.source.startsWith('src/'));
  const cli = 'src/cli/main.ts';
  const statically = new Set<string>();
  const entries = new Set<string>();
  for (const m of modules) {
    for (const d of m.dependencies) {
      if (d.dynamic || m.source === cli) entries.add(d.resolved);
      else statically.add(d.resolved);
    }
  }
  for (const m of modules) if (!statically.has(m.source)) entries.add(m.source);
  entries.delete(cli);
  return [...entries].filter((f) => f.startsWith('src/')).sort();
}

function importAlone(file: string): Promise<{ file: string; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(file)});`], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ file, code, stderr }));
  });
}

test('every file of src/ can be the first one imported, in a fresh process', { timeout: 600_000 }, async () => {
  // Entry points that start work when run (worker scripts) are imported all the same: they must
  // not do anything at import time beyond what their own main check allows.
  const files = evaluationEntries();
  for (const f of ['src/index.ts', 'src/cli/train.ts', 'src/runtime/session-worker.ts', 'src/data/loader-worker.ts']) {
    assert.ok(files.includes(f), `${f} is not among the evaluation entries: ${files.join(', ')}`);
  }
  const failures: string[] = [];
  const queue = [...files];
  await Promise.all(Array.from({ length: 2 }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const r = await importAlone(path.join(root, f));
      if (r.code !== 0) failures.push(`${path.relative(root, r.file)}: ${r.stderr.trim().split('\n').slice(0, 6).join('\n')}`);
    }
  }));
  assert.deepEqual(failures, []);
});
