import type { UiEvent } from '../../src/ui/api.ts';

/** The events of a `GET /api/events` stream, collected as they arrive, with a way to wait for one. */
export interface EventLog {
  events: UiEvent[];
  /** Resolves with the first event (seen already or to come) that `match` accepts. */
  waitFor(match: (e: UiEvent) => boolean, timeoutMs?: number): Promise<UiEvent>;
  close(): void;
}

export async function openEventStream(url: string, token: string): Promise<EventLog> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  if (response.status !== 200 || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
  const events: UiEvent[] = [];
  const waiting: { match: (e: UiEvent) => boolean; resolve: (e: UiEvent) => void }[] = [];
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (!data) continue;
          const event = JSON.parse(data) as UiEvent;
          events.push(event);
          for (const w of [...waiting]) {
            if (w.match(event)) {
              waiting.splice(waiting.indexOf(w), 1);
              w.resolve(event);
            }
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    waitFor(match, timeoutMs = 120_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching event in time')), timeoutMs);
        waiting.push({ match, resolve: (e) => { clearTimeout(timer); resolve(e); } });
      });
    },
    close: () => controller.abort(),
  };
}
