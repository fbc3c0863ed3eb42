import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The module path of the code running now (`layer1.0.conv2`). Modules enter their name around
 * `forward`, so a shape error says where in the network it happened and ONNX node names say
 * which layer they belong to. The path lives in the async context, so two jobs that build graphs
 * in one process never see each other's.
 */
const path = new AsyncLocalStorage<string>();

export function currentScope(): string {
  return path.getStore() ?? '';
}

export function withScope<T>(name: string, fn: () => T): T {
  const outer = path.getStore();
  return path.run(outer ? `${outer}.${name}` : name, fn);
}

/**
 * Runs `fn` with the module path set to exactly `modulePath`, whatever encloses the call: for
 * nodes built later on behalf of an op (its gradient, a rewrite of it), which belong where the op
 * was.
 */
export function atScope<T>(modulePath: string, fn: () => T): T {
  return path.run(modulePath, fn);
}
