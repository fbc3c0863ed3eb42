import type { TestPrediction } from '../../../src/ui/api.ts';
import { percent } from '../format.ts';

/** The top classes as bars; each carries its probability in full (data-prob, title) for whoever checks it. */
export function TopK({ prediction }: { prediction: TestPrediction }) {
  return (
    <ol class="topk" data-testid="topk">
      {prediction.top.map((t, i) => (
        <li key={t.label} data-testid={`top-${i}`} data-label={t.label} data-prob={String(t.prob)} title={`${t.label}: ${t.prob}`}>
          <span class="topk-label">{t.label}</span>
          <span class="bar"><span style={{ width: `${Math.max(0.5, t.prob * 100)}%` }} /></span>
          <span class="topk-prob">{percent(t.prob, 2)}</span>
        </li>
      ))}
    </ol>
  );
}
