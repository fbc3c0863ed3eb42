interface Props {
  classes: string[];
  confusion: number[][];
  selected: [number, number] | null;
  onSelect: (cell: [number, number]) => void;
}

/** Actual classes down, predicted across; a cell's shade is its share of its row. Click a cell for its images. */
export function ConfusionMatrix({ classes, confusion, selected, onSelect }: Props) {
  return (
    <table class="confusion" data-testid="confusion-matrix">
      <thead>
        <tr><th class="corner">actual \ predicted</th>{classes.map((c) => <th key={c}>{c}</th>)}</tr>
      </thead>
      <tbody>
        {confusion.map((row, a) => {
          const total = row.reduce((s, v) => s + v, 0) || 1;
          return (
            <tr key={classes[a]}>
              <th>{classes[a]}</th>
              {row.map((n, p) => {
                const share = n / total;
                const hue = a === p ? '140, 60%' : '10, 75%';
                const isSelected = selected !== null && selected[0] === a && selected[1] === p;
                return (
                  <td key={p}>
                    <button
                      type="button" class={`cell${isSelected ? ' selected' : ''}`} data-testid={`cell-${a}-${p}`} data-count={n}
                      style={{ background: n ? `hsla(${hue}, 45%, ${0.15 + 0.75 * share})` : undefined }}
                      title={`${n} ${classes[a]} images predicted ${classes[p]}`} onClick={() => onSelect([a, p])}
                    >{n}</button>
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
