/**
 * How to start the worker script `name` that sits beside the module at `caller` (its
 * `import.meta.url`). The built .js worker runs directly. Run from TypeScript sources, a worker
 * does not inherit the parent's module hooks, so a small bootstrap registers tsx's loader before
 * importing the .ts file. Used by the data loader's pool and the runtime's session pool.
 */
export function workerEntry(caller: string, name: string): { script: string | URL; eval: boolean } {
  if (!caller.endsWith('.ts')) return { script: new URL(`./${name}.js`, caller), eval: false };
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new URL(`./${name}.ts`, caller).href;
  return { script: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); });`, eval: true };
}
