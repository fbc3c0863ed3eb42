/**
 * The images this browser moved or deleted: old id -> new id, or null when deleted. A run's
 * inspection is a snapshot of the data it was trained on; with these its lists show where each
 * image is now, and which are gone, across reloads (the server's inspection stays as it was).
 */
const KEY = 'graft-ui:edits';
/** Old edits are dropped first once there are this many. */
const MAX = 5000;

function read(): Record<string, string | null> {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? '{}') as Record<string, string | null>;
  } catch {
    return {};
  }
}

export function recordMoves(from: string[], to: (string | null)[]): void {
  const edits = read();
  from.forEach((id, i) => {
    const target = to[i] ?? null;
    edits[id] = target;
    // An image moved back and forth follows every step.
    for (const [k, v] of Object.entries(edits)) if (v === id) edits[k] = target;
  });
  const keys = Object.keys(edits);
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX))) delete edits[k];
  localStorage.setItem(KEY, JSON.stringify(edits));
}

/** Where an image is now: its id, or null when it was deleted. */
export function currentId(id: string): string | null {
  const edits = read();
  return id in edits ? edits[id] : id;
}

export function currentIds(): Record<string, string | null> {
  return read();
}
