import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** graft's package.json, two folders up from src/jobs/ and from dist/jobs/ alike: the version the CLI and the server report. */
export const graftPackage = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as {
  version: string;
  engines?: { node?: string };
};
