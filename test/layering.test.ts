import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
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

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
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
  // Entry points that start work when run (the CLI, worker scripts) are imported all the same: they
  // must not do anything at import time beyond what their own main check allows.
  const files = sourceFiles(path.join(root, 'src')).filter((f) => !f.endsWith(path.join('cli', 'main.ts')));
  const failures: string[] = [];
  const queue = [...files];
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const r = await importAlone(f);
      if (r.code !== 0) failures.push(`${path.relative(root, r.file)}: ${r.stderr.trim().split('\n').slice(0, 6).join('\n')}`);
    }
  }));
  assert.deepEqual(failures, []);
});
