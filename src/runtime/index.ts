import type { Tensor } from '../graph/tensor.ts';
import type { RuntimeOptions } from './options.ts';
import { currentRuntime } from './runtime.ts';
import './tensor-values.ts';

export { Runtime, currentRuntime } from './runtime.ts';
export { backward, zeroGrad } from './backward.ts';
export { createSession, type Executable } from './session.ts';
export { SessionPool, type SessionPoolOptions } from './session-pool.ts';
export { RuntimeBusyError, WorkerCrashError } from './errors.ts';
export type { RuntimeOptions, ExecutionProvider, Executor } from './options.ts';

// The current runtime's options and sessions, as free functions for scripts and the one-shot CLI.

export function runtimeOptions(): Readonly<RuntimeOptions> {
  return currentRuntime().options;
}

export function setRuntimeOptions(update: Partial<RuntimeOptions>): void {
  currentRuntime().configure(update);
}

export function releaseSessions(): Promise<void> {
  return currentRuntime().release();
}

export function withTransientSessions<T>(fn: () => Promise<T>): Promise<T> {
  return currentRuntime().withTransientSessions(fn);
}

export function cachedSessionCount(): number {
  return currentRuntime().sessionCount;
}

export function realize(targets: readonly Tensor[]): Promise<void> {
  return currentRuntime().realize(targets);
}
