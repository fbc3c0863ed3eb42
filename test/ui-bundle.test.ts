// The web app's committed bundle (assets/ui/) against its source (web/): rebuilt into a temporary
// folder it must come out byte for byte the same, so the app served offline is the source's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULTS } from '../src/train/config.ts';
import { BUNDLE_FILES, buildUi, DEFAULT_OUT } from '../web/build.ts';
import { FORM_DEFAULTS } from '../web/src/train/defaults.ts';

const root = path.resolve(import.meta.dirname, '..');

test('the committed bundle in assets/ui/ is what web/ builds, byte for byte', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'graft-ui-bundle-'));
  try {
    await buildUi(dir);
    for (const name of BUNDLE_FILES) {
      const built = readFileSync(path.join(dir, name));
      const committed = readFileSync(path.join(DEFAULT_OUT, name));
      assert.ok(built.length > 0, name);
      assert.ok(built.equals(committed), `assets/ui/${name} differs from a fresh build of web/ (${committed.length} vs ${built.length} bytes): run npm run build:ui and commit it`);
    }
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    assert.match(html, /src="\/assets\/app\.js"/);
    assert.match(html, /href="\/assets\/app\.css"/);
    // No source map, no path of the machine that built it.
    const js = readFileSync(path.join(dir, 'app.js'), 'utf8');
    assert.doesNotMatch(js, /sourceMappingURL/);
    assert.equal(js.includes(root), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the train form starts from graft train\'s defaults', () => {
  const { model: _model, weights: _weights, cacheDir: _cacheDir, ...rest } = DEFAULTS;
  assert.deepEqual(FORM_DEFAULTS, rest);
});

test('web/ type-checks against the shared API types', { timeout: 120_000 }, () => {
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', path.join(root, 'web', 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
