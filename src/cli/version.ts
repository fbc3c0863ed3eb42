import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** graft's package.json, two folders up from src/cli/ and from dist/cli/ alike. */
export const graftPackage = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as {
  version: string;
  engines?: { node?: string };
};
