// graft ui's data API against a real server on a free port, with real fetch(): the token on every
// request (static files too), uploads checked by name, size, pixel count and decoding, ids that
// cannot leave the project, class and image changes on disk, paging and the thumbnail cache.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeLargePng } from './support/large-image.ts';
import { startUiClient, type UiClient } from './support/ui-client.ts';
import type { ImagePage, Project, UploadResult } from '../src/ui/api.ts';

const sample = resolve(import.meta.dirname, '..', 'assets', 'sample-data', 'hymenoptera-mini', 'train');
const jpegs = (cls: string, n: number) => readdirSync(join(sample, cls)).sort().slice(0, n).map((f) => ({ name: f, bytes: readFileSync(join(sample, cls, f)) }));

const outer = mkdtempSync(join(tmpdir(), 'graft-ui-api-'));
const projectDir = join(outer, 'inner', 'project');
const MAX_PIXELS = 1_000_000;
let ui: UiClient;

before(async () => {
  ui = await startUiClient({ project: projectDir, maxPixels: MAX_PIXELS, maxFileBytes: 2 * 1024 * 1024 });
});
after(async () => {
  await ui?.server.close();
  rmSync(outer, { recursive: true, force: true });
});

/** Every file under `dir`, recursively, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

test('a missing folder becomes a new, empty project with data/, runs/ and .graft/', async () => {
  const { status, body } = await ui.json<Project>('/api/project');
  assert.equal(status, 200);
  assert.deepEqual({ ...body, bad: body.bad }, { name: 'project', layout: 'folders', classes: [], images: 0, bad: [] });
  for (const d of ['data', 'runs', '.graft']) assert.ok(statSync(join(projectDir, d)).isDirectory(), d);
});

test('requests without the token get 403 JSON, the API and static files alike; ?token= sets the cookie', async () => {
  for (const path of ['/', '/assets/index.js', '/api/project', '/api/images', '/api/events', '/nowhere']) {
    const r = await fetch(`${ui.server.origin}${path}`);
    assert.equal(r.status, 403, path);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.match(((await r.json()) as { error: string }).error, /token/);
    const wrong = await fetch(`${ui.server.origin}${path}?token=${'x'.repeat(ui.server.token.length)}`, { headers: { cookie: 'graft_ui=nope', authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 403, `${path} with a wrong token`);
  }
  const opened = await fetch(ui.server.url);
  assert.equal(opened.status, 200);
  assert.match(await opened.text(), /<html/i);
  const cookie = opened.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^graft_ui=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
  const withCookie = await fetch(`${ui.server.origin}/api/project`, { headers: { cookie: cookie.split(';')[0] } });
  assert.equal(withCookie.status, 200);
  assert.ok(ui.server.url.startsWith('http://127.0.0.1:'), ui.server.url);
});

test('uploads: images are added by class, names reduced to a basename, clashes suffixed, bad ones refused by name with the reason', async () => {
  const ants = jpegs('ants', 3);
  const corrupt = Buffer.from('this is not a JPEG, only named like one');
  const r = await ui.upload<UploadResult>('ants', [
    ants[0], { name: `photos/holiday/${ants[1].name}`, bytes: ants[1].bytes }, { name: ants[0].name, bytes: ants[2].bytes },
    { name: '.hidden.jpg', bytes: ants[0].bytes }, { name: 'notes.txt', bytes: Buffer.from('hello') }, { name: 'broken.jpg', bytes: corrupt },
    { name: 'truncated.jpg', bytes: ants[0].bytes.subarray(0, 2000) },
  ]);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const stem = ants[0].name.replace(/\.jpg$/, '');
  assert.deepEqual(r.body.added.map((a) => a.id), [`ants/${ants[0].name}`, `ants/${ants[1].name}`, `ants/${stem}-1.jpg`]);
  assert.deepEqual(r.body.rejected.map((x) => x.id), ['.hidden.jpg', 'notes.txt', 'broken.jpg', 'truncated.jpg']);
  const reasons = Object.fromEntries(r.body.rejected.map((x) => [x.id, x.reason]));
  assert.match(reasons['.hidden.jpg'], /hidden/);
  assert.match(reasons['notes.txt'], /not an image file name/);
  assert.match(reasons['broken.jpg'], /cannot be decoded/);
  assert.match(reasons['truncated.jpg'], /cannot be decoded/);
  assert.deepEqual(readdirSync(join(projectDir, 'data', 'ants')).sort(), [ants[0].name, ants[1].name, `${stem}-1.jpg`].sort());
  assert.ok(readFileSync(join(projectDir, 'data', 'ants', `${stem}-1.jpg`)).equals(ants[2].bytes));
  const bees = await ui.upload<UploadResult>('bees', jpegs('bees', 4));
  assert.equal(bees.body.added.length, 4);
});

test('a path-traversal upload name is refused with 400 and nothing is written outside the class folder', async () => {
  const before = filesUnder(outer);
  for (const name of ['../../x.jpg', '..\\..\\x.jpg', 'a/../../x.jpg', '/etc/x.jpg']) {
    const r = await ui.upload<UploadResult & { error: string }>('ants', [{ name, bytes: jpegs('ants', 1)[0].bytes }]);
    assert.equal(r.status, 400, name);
    assert.deepEqual(r.body.added, []);
    assert.equal(r.body.rejected[0].id, name);
    assert.match(r.body.rejected[0].reason, /leaves its folder|absolute path/);
  }
  for (const cls of ['../escape', '..', '.hidden', 'a/b', 'train']) {
    const r = await ui.upload('' + cls, jpegs('ants', 1));
    assert.equal(r.status, 400, cls);
  }
  assert.deepEqual(filesUnder(outer), before);
});

test('an image with more pixels than the limit is refused from its header, by name', async () => {
  const file = join(outer, 'huge.png');
  await writeLargePng(file, 1200, 1000);
  const r = await ui.upload<UploadResult>('ants', [{ name: 'huge.png', bytes: readFileSync(file) }, jpegs('ants', 4)[3]]);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.rejected, [{ id: 'huge.png', reason: `1200 x 1000 = 1200000 pixels, more than the ${MAX_PIXELS} accepted` }]);
  assert.ok(!existsSync(join(projectDir, 'data', 'ants', 'huge.png')));
  const big = await ui.upload<UploadResult>('ants', [{ name: 'big.jpg', bytes: Buffer.alloc(3 * 1024 * 1024, 1) }]);
  assert.equal(big.status, 400, JSON.stringify(big.body));
  assert.match(big.body.rejected[0].reason, /over the limit of 2097152 bytes/);
});

test('ids that leave the data folder, are hidden or not images are refused with 400 before any file is touched', async () => {
  writeFileSync(join(outer, 'secret.jpg'), jpegs('ants', 1)[0].bytes);
  symlinkSync(join(outer, 'secret.jpg'), join(projectDir, 'data', 'ants', 'link.jpg'));
  try {
    const ids = ['../secret.jpg', 'ants/../../../secret.jpg', '/etc/passwd', 'ants/.hidden.jpg', 'ants/x.txt', 'ants', 'ants//x.jpg', 'ants\\..\\x.jpg', 'ants/link.jpg'];
    for (const id of ids) {
      for (const route of ['file', 'thumb']) {
        const r = await ui.json<{ error: string }>(`/api/images/${route}?id=${encodeURIComponent(id)}`);
        assert.equal(r.status, 400, `${route} ${id}: ${JSON.stringify(r.body)}`);
      }
    }
    const before = filesUnder(outer);
    assert.equal((await ui.post('/api/images/delete', { ids: ['ants/link.jpg'] })).status, 400);
    assert.equal((await ui.post('/api/images/delete', { ids: ['../../../secret.jpg'] })).status, 400);
    assert.equal((await ui.post('/api/images/move', { ids: [`ants/${jpegs('ants', 1)[0].name}`], class: '../../out' })).status, 400);
    assert.equal((await ui.post('/api/classes', { name: '../../out' })).status, 400);
    assert.equal((await ui.post('/api/classes/ants', { name: '../out' }, 'PATCH')).status, 400);
    for (const name of ['.hidden', '..%2F..%2Fout']) assert.equal((await ui.call(`/api/classes/${name}`, { method: 'DELETE' })).status, 400, name);
    assert.deepEqual(filesUnder(outer), before);
    assert.ok(existsSync(join(outer, 'secret.jpg')));
  } finally {
    rmSync(join(projectDir, 'data', 'ants', 'link.jpg'));
  }
});

test('a file put in the data folder by hand is found; a corrupt one is listed as bad by name with the reason', async () => {
  const corrupt = join(projectDir, 'data', 'bees', 'corrupt.jpg');
  writeFileSync(corrupt, 'not an image at all');
  try {
    let bad: Project['bad'] = [];
    for (let i = 0; i < 100 && !bad.some((b) => b.id === 'bees/corrupt.jpg'); i++) {
      bad = (await ui.json<Project>('/api/project')).body.bad;
      await new Promise((r) => setTimeout(r, 50));
    }
    const found = bad.find((b) => b.id === 'bees/corrupt.jpg');
    assert.ok(found, JSON.stringify(bad));
    assert.match(found.reason, /not an image|cannot be read|unsupported/i);
    const thumb = await ui.call('/api/images/thumb?id=bees/corrupt.jpg');
    assert.equal(thumb.status, 422);
    assert.match(((await thumb.json()) as { error: string }).error, /bees\/corrupt\.jpg/);
  } finally {
    rmSync(corrupt, { force: true });
  }
});

test('classes: create (409 when it exists), rename (409 when taken), delete with its images', async () => {
  const created = await ui.post('/api/classes', { name: 'wasps' });
  assert.equal(created.status, 201);
  assert.deepEqual(created.body, { name: 'wasps', count: 0, samples: [] });
  assert.ok(statSync(join(projectDir, 'data', 'wasps')).isDirectory());
  assert.equal((await ui.post('/api/classes', { name: 'wasps' })).status, 409);
  assert.equal((await ui.post('/api/classes/wasps', { name: 'ants' }, 'PATCH')).status, 409);
  assert.equal((await ui.post('/api/classes/nope', { name: 'x' }, 'PATCH')).status, 404);
  await ui.upload('wasps', jpegs('bees', 2));
  const renamed = await ui.post<{ name: string; count: number }>('/api/classes/wasps', { name: 'hornets' }, 'PATCH');
  assert.equal(renamed.status, 200);
  assert.deepEqual([renamed.body.name, renamed.body.count], ['hornets', 2]);
  assert.ok(!existsSync(join(projectDir, 'data', 'wasps')));
  assert.equal(readdirSync(join(projectDir, 'data', 'hornets')).length, 2);
  const deleted = await ui.json('/api/classes/hornets', { method: 'DELETE' });
  assert.deepEqual(deleted, { status: 200, body: { deleted: 2 } });
  assert.ok(!existsSync(join(projectDir, 'data', 'hornets')));
  const project = (await ui.json<Project>('/api/project')).body;
  assert.deepEqual(project.classes.map((c) => [c.name, c.count]), [['ants', 4], ['bees', 4]]);
});

test('images: paged in class order, moved to another class (a clash suffixed), deleted', async () => {
  const all = (await ui.json<ImagePage>('/api/images?limit=500')).body;
  assert.equal(all.total, 8);
  const page = (await ui.json<ImagePage>('/api/images?offset=2&limit=3')).body;
  assert.deepEqual(page.images.map((i) => i.id), all.images.slice(2, 5).map((i) => i.id));
  assert.deepEqual({ total: page.total, offset: page.offset }, { total: 8, offset: 2 });
  const bees = (await ui.json<ImagePage>('/api/images?class=bees')).body;
  assert.ok(bees.images.every((i) => i.class === 'bees' && i.split === null && i.bytes > 0));
  for (const q of ['limit=501', 'limit=0', 'offset=-1', 'offset=x']) assert.equal((await ui.call(`/api/images?${q}`)).status, 400, q);

  const ant = all.images.find((i) => i.class === 'ants')!;
  writeFileSync(join(projectDir, 'data', 'bees', ant.id.split('/')[1]), readFileSync(join(projectDir, 'data', ant.id)));
  const moved = await ui.post<{ moved: { id: string; class: string }[] }>('/api/images/move', { ids: [ant.id], class: 'bees' });
  assert.equal(moved.status, 200);
  const name = ant.id.split('/')[1];
  assert.deepEqual(moved.body.moved, [{ id: `bees/${name.replace('.jpg', '-1.jpg')}`, class: 'bees', split: null, bytes: ant.bytes }]);
  assert.ok(!existsSync(join(projectDir, 'data', ant.id)));
  assert.equal((await ui.post('/api/images/move', { ids: [ant.id], class: 'bees' })).status, 404);
  const gone = await ui.post('/api/images/delete', { ids: [moved.body.moved[0].id, `bees/${name}`] });
  assert.deepEqual(gone, { status: 200, body: { deleted: 2 } });
  assert.equal((await ui.json<ImagePage>('/api/images')).body.total, 7);
});

test('a thumbnail is made once as WebP and served from the cache after', async () => {
  const id = (await ui.json<ImagePage>('/api/images?class=bees&limit=1')).body.images[0].id;
  const first = await ui.call(`/api/images/thumb?id=${encodeURIComponent(id)}`);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('content-type'), 'image/webp');
  const bytes = Buffer.from(await first.arrayBuffer());
  assert.equal(bytes.subarray(8, 12).toString(), 'WEBP');
  const cached = readdirSync(join(projectDir, '.graft', 'thumbs')).filter((f) => f.endsWith('.webp'));
  assert.equal(cached.length, 1);
  const file = join(projectDir, '.graft', 'thumbs', cached[0]);
  const mtime = statSync(file).mtimeMs;
  await new Promise((r) => setTimeout(r, 30));
  const second = Buffer.from(await (await ui.call(`/api/images/thumb?id=${encodeURIComponent(id)}`)).arrayBuffer());
  assert.ok(second.equals(bytes));
  assert.equal(statSync(file).mtimeMs, mtime);
  const etag = first.headers.get('etag')!;
  assert.equal((await ui.call(`/api/images/thumb?id=${encodeURIComponent(id)}`, { headers: { 'if-none-match': etag } })).status, 304);
  const original = await ui.call(`/api/images/file?id=${encodeURIComponent(id)}`);
  assert.equal(original.headers.get('content-type'), 'image/jpeg');
  assert.ok(Buffer.from(await original.arrayBuffer()).equals(readFileSync(join(projectDir, 'data', id))));
});

test('an existing train/ + val/ folder is used as it is', async () => {
  const dir = join(outer, 'splits');
  for (const split of ['train', 'val']) {
    for (const cls of ['ants', 'bees']) {
      mkdirSync(join(dir, split, cls), { recursive: true });
      for (const f of jpegs(cls, 2)) writeFileSync(join(dir, split, cls, f.name), f.bytes);
    }
  }
  const other = await startUiClient({ project: dir });
  try {
    const p = (await other.json<Project>('/api/project')).body;
    assert.equal(p.layout, 'splits');
    assert.deepEqual(p.classes.map((c) => [c.name, c.count]), [['ants', 4], ['bees', 4]]);
    const val = (await other.json<ImagePage>('/api/images?split=val')).body;
    assert.equal(val.total, 4);
    assert.ok(val.images.every((i) => i.id.startsWith('val/') && i.split === 'val'));
    const up = await other.upload<UploadResult>('ants', jpegs('ants', 3).slice(2));
    assert.equal(up.body.added[0].id, `train/ants/${jpegs('ants', 3)[2].name}`);
    assert.equal((await other.json(`/api/images/file?id=ants/${jpegs('ants', 1)[0].name}`)).status, 400);
    assert.ok(!existsSync(join(dir, 'data')));
  } finally {
    await other.server.close();
  }
});
