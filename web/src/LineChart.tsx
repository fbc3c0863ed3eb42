import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series { label: string; values: (number | null)[]; color: string; dash?: number[] }

export const COLORS = ['#2f6fdf', '#e0672b', '#2a9d55', '#b33dc6', '#c9a227', '#17a2b8', '#d63384', '#6c757d'];

interface Props {
  title: string;
  x: number[];
  xLabel: string;
  series: Series[];
  testid: string;
  height?: number;
  /** Format of the y axis's values. */
  yFormat?: (v: number) => string;
}

/**
 * A uPlot line chart that follows its data: new points are drawn with setData (no rebuild),
 * a change of the series or the width rebuilds it.
 */
export function LineChart({ title, x, xLabel, series, testid, height = 220, yFormat }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join('\u0000');
  const data = [x, ...series.map((s) => s.values)] as uPlot.AlignedData;

  useEffect(() => {
    const el = box.current!;
    const make = () => {
      plot.current?.destroy();
      plot.current = new uPlot({
        width: Math.max(200, el.clientWidth),
        height,
        title,
        scales: { x: { time: false } },
        axes: [{ label: xLabel }, { values: yFormat ? (_u, vals) => vals.map(yFormat) : undefined, size: 56 }],
        series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, dash: s.dash, spanGaps: true, points: { show: x.length < 60 } }))],
        legend: { show: true },
      }, data, el);
    };
    make();
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (Math.abs(el.clientWidth - width) < 2) return;
      width = el.clientWidth;
      plot.current?.setSize({ width: Math.max(200, width), height });
    });
    observer.observe(el);
    return () => { observer.disconnect(); plot.current?.destroy(); plot.current = null; };
  }, [shape, title, height]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return <div class="chart" ref={box} data-testid={testid} data-points={x.length} />;
}
