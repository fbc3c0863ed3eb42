import type { ClassScore } from '../../../src/ui/api.ts';
import { percent } from '../format.ts';

export function ClassScores({ scores }: { scores: ClassScore[] }) {
  return (
    <table class="table scores" data-testid="class-scores">
      <thead><tr><th>Class</th><th>Precision</th><th>Recall</th><th>F1</th><th>Validation images</th></tr></thead>
      <tbody>
        {scores.map((s) => (
          <tr key={s.class}>
            <td>{s.class}</td><td>{percent(s.precision)}</td><td>{percent(s.recall)}</td><td>{percent(s.f1)}</td><td>{s.support}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
