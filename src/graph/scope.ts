/**
 * The module path of the code running now (`layer1.0.conv2`). Modules push their name around
 * `forward`, so a shape error says where in the network it happened and ONNX node names say
 * which layer they belong to.
 */
const stack: string[] = [];

export function currentScope(): string {
  return stack.join('.');
}

export function withScope<T>(name: string, fn: () => T): T {
  stack.push(name);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}
