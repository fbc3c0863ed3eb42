import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataIndex } from '../src/ui/data-index.ts';
import { ProjectFolder } from '../src/ui/project-folder.ts';

/** A project folder, removed after the test, whose data/bees holds one image, a.jpg. */
function projectWithOneImage(t: { after(fn: () => void): void }): { dir: string; bees: string } {
  const dir = mkdtempSync(join(tmpdir(), 'graft-index-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bees = join(dir, 'data', 'bees');
  mkdirSync(bees, { recursive: true });
  writeFileSync(join(bees, 'a.jpg'), 'x');
  return { dir, bees };
}

// A coarse file-system clock is played by setting the class folder's mtime back to the one the
// index stamped: the folder then looks unchanged though a file was written into it by hand.
test('a file written by hand in the same mtime tick as the index stamp is still found, once the tick is far enough behind', async (t) => {
  const { dir, bees } = projectWithOneImage(t);
  const project = new ProjectFolder(dir);
  const index = new DataIndex(project);
  writeFileSync(join(bees, 'b.jpg'), 'x');
  const tick = Math.floor(Date.now() / 1000);
  utimesSync(bees, tick, tick);
  const served = index.add({ id: 'bees/b.jpg', class: 'bees', split: null, path: join(bees, 'b.jpg') });
  assert.equal(served.id, 'bees/b.jpg');
  writeFileSync(join(bees, 'c.jpg'), 'x');
  utimesSync(bees, tick, tick);
  assert.equal(index.fresh().size, 2, 'within the tick the stamp is trusted; no scan per request');
  const deadline = Date.now() + 10_000;
  while (index.fresh().size !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(index.all().map((i) => i.id), ['bees/a.jpg', 'bees/b.jpg', 'bees/c.jpg']);
  const scans = index.scans;
  await new Promise((r) => setTimeout(r, 200));
  index.fresh();
  assert.equal(index.scans, scans, 'a stamp of folders that changed long enough ago is trusted');
});

test('a folder whose mtime lies in the future does not make every later request rescan', async (t) => {
  const { dir, bees } = projectWithOneImage(t);
  const [anHourAgo, inAnHour] = [Date.now() / 1000 - 3600, Date.now() / 1000 + 3600];
  utimesSync(join(dir, 'data'), anHourAgo, anHourAgo);
  utimesSync(bees, inAnHour, inAnHour);
  const index = new DataIndex(new ProjectFolder(dir));
  const scans = index.scans;
  await new Promise((r) => setTimeout(r, 2100));
  index.fresh();
  assert.equal(index.scans, scans, 'rescanned a folder that had not changed');
  writeFileSync(join(bees, 'b.jpg'), 'x');
  assert.equal(index.fresh().size, 2, 'a write replaces the future mtime, and is seen at once');
});
