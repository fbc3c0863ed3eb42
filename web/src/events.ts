import type { UiEvent } from '../../src/ui/api.ts';

type Listener = (event: UiEvent) => void;

const listeners = new Set<Listener>();
const openListeners = new Set<() => void>();
let source: EventSource | null = null;

function open(): void {
  if (source) return;
  source = new EventSource('/api/events');
  // Closed when the page goes, rather than cut off with it.
  addEventListener('pagehide', () => source?.close(), { once: true });
  source.onmessage = (message) => {
    const event = JSON.parse(message.data as string) as UiEvent;
    for (const l of [...listeners]) l(event);
  };
  // After a dropped stream the browser reconnects by itself; what was missed meanwhile is reloaded.
  let opened = false;
  source.onopen = () => {
    if (opened) for (const l of [...openListeners]) l();
    opened = true;
  };
}

/** The server's event stream, opened once for the whole page. */
export function subscribe(listener: Listener): () => void {
  open();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Called each time the stream comes back after it dropped. */
export function onReconnect(listener: () => void): () => void {
  open();
  openListeners.add(listener);
  return () => openListeners.delete(listener);
}
