// `graft ui` as a command: it prints the URL with the token, answers it on 127.0.0.1, refuses
// requests without the token, and stops cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

test('graft ui prints its URL, serves the project behind the token and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'graft-ui-cli-'));
  const project = join(dir, 'new-project');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'ui', project, '--port', '0', '--no-open', '--token', 'a-token-for-the-test'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISPLAY: '' },
  });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolveUrl, reject) => {
      child.stdout.on('data', (d: string) => {
        out += d;
        const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
        if (m) resolveUrl(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`graft ui exited with ${code} before printing its URL: ${out}`)));
    });
    assert.ok(url.endsWith('/?token=a-token-for-the-test'), url);
    const origin = new URL(url).origin;
    assert.equal((await fetch(`${origin}/api/project`)).status, 403);
    const r = await fetch(`${origin}/api/project?token=a-token-for-the-test`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { name: string }).name, 'new-project');
    assert.ok(existsSync(join(project, 'data')));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
