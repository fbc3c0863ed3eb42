// The web app's event stream over real sockets: every reading client gets every event and the
// heartbeat, and a client that stops reading is dropped once its backlog passes the bound, while
// the others go on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { EventHub } from '../src/ui/event-hub.ts';
import { StepSeries } from '../src/ui/step-series.ts';

test('a client too slow is dropped at its backlog bound; the reading one gets everything', async () => {
  const hub = new EventHub({ maxBacklogBytes: 256 * 1024, heartbeatMs: 20 });
  const server = createServer((_req, res) => hub.attach(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const stalled = connect(port, '127.0.0.1');
    await new Promise((r) => stalled.once('connect', r));
    stalled.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    stalled.pause();
    const reader = await fetch(`http://127.0.0.1:${port}/`);
    const text = reader.body!.pipeThrough(new TextDecoderStream()).getReader();
    while (hub.size < 2) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 60));
    const line = 'x'.repeat(64 * 1024);
    const count = 400;
    let received = '';
    const reading = (async () => {
      while (!received.includes(`"line":"end"`)) {
        const { value, done } = await text.read();
        if (done) break;
        received += value;
      }
    })();
    for (let i = 0; i < count; i++) {
      hub.publish({ type: 'log', run: 'r', line });
      // Let the sockets move, as a running server's event loop would.
      await new Promise((r) => setImmediate(r));
    }
    hub.publish({ type: 'log', run: 'r', line: 'end' });
    await reading;
    assert.equal(hub.dropped, 1);
    assert.equal(hub.size, 1);
    assert.equal(received.split(line).length - 1, count);
    assert.match(received, /^: connected\n\n/);
    assert.match(received, /\n\n: ping\n\n/);
    await text.cancel();
    stalled.destroy();
  } finally {
    hub.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('step losses stay within their bound over a long run, evenly thinned, first step kept', () => {
  const series = new StepSeries(100);
  let offered = 0;
  for (let step = 0; step < 10_000; step++) {
    offered++;
    if (series.take()) series.add({ epoch: 1, step, loss: step });
  }
  const steps = series.points.map((p) => p.step);
  assert.ok(steps.length <= 100 && steps.length >= 50, `${steps.length} points`);
  assert.equal(steps[0], 0);
  const gaps = new Set(steps.slice(1).map((s, i) => s - steps[i]));
  assert.equal(gaps.size, 1, `uneven gaps: ${[...gaps]}`);
  assert.ok(steps[steps.length - 1] > 10_000 - 2 * [...gaps][0] - 1, `last kept step ${steps[steps.length - 1]} of ${offered}`);
});
