/**
 * Builds the web app's front end (web/src) into one folder: index.html, app.js and app.css.
 * The output is committed under assets/ui/ so the app works offline right after install; the
 * bundle test rebuilds it and compares, so the committed files cannot drift from the source.
 *
 *   npm run build:ui            writes assets/ui/
 *   node --import tsx web/build.ts <folder>
 */
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const webDir = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT = path.join(webDir, '..', 'assets', 'ui');
/** The files a build writes, all of them committed. */
export const BUNDLE_FILES = ['index.html', 'app.js', 'app.css'] as const;

export async function buildUi(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  for (const name of BUNDLE_FILES) await rm(path.join(outDir, name), { force: true });
  await build({
    absWorkingDir: webDir,
    entryPoints: { app: path.join(webDir, 'src', 'main.tsx') },
    outdir: outDir,
    bundle: true,
    minify: true,
    sourcemap: false,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
    // The same source gives the same bytes wherever it is built.
    metafile: false,
    write: true,
  });
  await copyFile(path.join(webDir, 'index.html'), path.join(outDir, 'index.html'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const out = path.resolve(process.argv[2] ?? DEFAULT_OUT);
  await buildUi(out);
  process.stdout.write(`built the web app into ${out}\n`);
}
