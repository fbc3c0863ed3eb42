import { escapeHtml, formatInteger, px } from './report-html.ts';

/**
 * Training curves as inline SVG: one chart per quantity (loss, accuracy), epochs along x. A value
 * that is not finite (a diverged loss) leaves a gap in its line and a mark on the axis, so one bad
 * epoch neither breaks the drawing nor rescales the rest of the run into a flat line.
 */

export interface CurveSeries {
  label: string;
  values: number[];
  color: string;
  dashed?: boolean;
}

export interface CurveChart {
  /** Accessible name of the chart ("Loss"). */
  title: string;
  /** x position of each value: the epoch numbers as the trainer counted them. */
  epochs: number[];
  series: CurveSeries[];
  /** Index (into epochs) of the best epoch, marked with a vertical line. */
  bestIndex?: number;
  /** Training phase per epoch ("frozen", "fine-tune"): boundaries are drawn and named. */
  phases?: (string | undefined)[];
  formatValue: (value: number) => string;
  /** Bounds the axis may not exceed (accuracy lives in [0, 1]). */
  limits?: [number, number];
}

const WIDTH = 560;
const HEIGHT = 280;
const MARGIN = { left: 56, right: 18, top: 40, bottom: 40 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
/** Beyond this many epochs per chart, dots would merge into the line; only the line is drawn. */
const MAX_DOTTED_POINTS = 40;

export function curveChart(chart: CurveChart): string {
  const n = chart.epochs.length;
  const finite = chart.series.flatMap((s) => s.values.filter(Number.isFinite));
  if (n === 0 || finite.length === 0) {
    return svg(chart.title, `<text class="empty" x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">No finite values to plot</text>`);
  }

  const y = niceScale(Math.min(...finite), Math.max(...finite), chart.limits);
  const firstEpoch = chart.epochs[0];
  const lastEpoch = chart.epochs[n - 1];
  const xOf = (i: number): number =>
    n === 1 || lastEpoch === firstEpoch ? MARGIN.left + PLOT_W / 2 : MARGIN.left + ((chart.epochs[i] - firstEpoch) / (lastEpoch - firstEpoch)) * PLOT_W;
  const yOf = (v: number): number => MARGIN.top + PLOT_H - ((v - y.min) / (y.max - y.min)) * PLOT_H;

  const parts: string[] = [];
  parts.push(phaseBands(chart, xOf));
  parts.push(yAxis(y.ticks, yOf, chart.formatValue));
  parts.push(xAxis(chart.epochs, xOf));
  if (chart.bestIndex !== undefined && chart.bestIndex >= 0 && chart.bestIndex < n) parts.push(bestMarker(chart, chart.bestIndex, xOf));
  for (const series of chart.series) parts.push(seriesMarkup(series, chart, xOf, yOf));
  parts.push(nonFiniteMarks(chart, xOf));
  parts.push(legend(chart.series));
  return svg(chart.title, parts.join(''));
}

function svg(title: string, body: string): string {
  return `<svg class="curve" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}" xmlns="http://www.w3.org/2000/svg">`
    + `<title>${escapeHtml(title)}</title>${body}</svg>`;
}

interface Scale {
  min: number;
  max: number;
  ticks: number[];
}

/** Round bounds and about five round ticks (1, 2, 2.5 or 5 times a power of ten). */
export function niceScale(lo: number, hi: number, limits?: [number, number]): Scale {
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) * 0.1 || 0.5;
    lo -= pad;
    hi += pad;
  }
  const rough = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  let min = Math.floor(lo / step) * step;
  let max = Math.ceil(hi / step) * step;
  if (limits) {
    min = Math.max(min, limits[0]);
    max = Math.min(max, limits[1]);
  }
  const ticks: number[] = [];
  for (let t = min; t <= max + step * 1e-6; t += step) ticks.push(Number(t.toPrecision(12)));
  return { min, max, ticks };
}

function yAxis(ticks: number[], yOf: (v: number) => number, format: (v: number) => string): string {
  return ticks.map((t) => {
    const ty = px(yOf(t));
    return `<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${ty}" y2="${ty}"/>`
      + `<text class="tick" x="${MARGIN.left - 8}" y="${ty}" text-anchor="end" dominant-baseline="middle">${escapeHtml(format(t))}</text>`;
  }).join('');
}

function xAxis(epochs: number[], xOf: (i: number) => number): string {
  const baseline = MARGIN.top + PLOT_H;
  const stride = Math.max(1, Math.ceil(epochs.length / 10));
  const labelled = epochs.map((_, i) => i).filter((i) => i % stride === 0 || i === epochs.length - 1);
  // The last label may crowd the previous stride label; drop the earlier one then.
  if (labelled.length >= 2 && labelled[labelled.length - 1] - labelled[labelled.length - 2] < stride / 2) labelled.splice(labelled.length - 2, 1);
  const ticks = labelled.map((i) => {
    const tx = px(xOf(i));
    return `<line class="axis" x1="${tx}" x2="${tx}" y1="${baseline}" y2="${baseline + 4}"/>`
      + `<text class="tick" x="${tx}" y="${baseline + 16}" text-anchor="middle">${formatInteger(epochs[i])}</text>`;
  }).join('');
  return `<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${baseline}" y2="${baseline}"/>${ticks}`
    + `<text class="axis-label" x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 4}" text-anchor="middle">epoch</text>`;
}

function phaseBands(chart: CurveChart, xOf: (i: number) => number): string {
  const phases = chart.phases;
  if (!phases || phases.every((p) => !p)) return '';
  const parts: string[] = [];
  let start = 0;
  for (let i = 1; i <= phases.length; i++) {
    if (i < phases.length && phases[i] === phases[start]) continue;
    const left = start === 0 ? MARGIN.left : (xOf(start - 1) + xOf(start)) / 2;
    const right = i === phases.length ? MARGIN.left + PLOT_W : (xOf(i - 1) + xOf(i)) / 2;
    if (start > 0) parts.push(`<line class="phase-edge" x1="${px(left)}" x2="${px(left)}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_H}"/>`);
    const name = phases[start];
    if (name) {
      parts.push(`<text class="phase" x="${px(left + 6)}" y="${MARGIN.top + PLOT_H - 6}">${escapeHtml(name)}<title>${escapeHtml(`phase: ${name}`)}</title></text>`);
    }
    start = i;
  }
  return parts.join('');
}

function bestMarker(chart: CurveChart, index: number, xOf: (i: number) => number): string {
  const bx = px(xOf(index));
  const anchor = xOf(index) > MARGIN.left + PLOT_W - 60 ? 'end' : xOf(index) < MARGIN.left + 60 ? 'start' : 'middle';
  return `<line class="best" x1="${bx}" x2="${bx}" y1="${MARGIN.top - 4}" y2="${MARGIN.top + PLOT_H}"/>`
    + `<text class="best-label" x="${bx}" y="${MARGIN.top - 8}" text-anchor="${anchor}">best · epoch ${formatInteger(chart.epochs[index])}</text>`;
}

function seriesMarkup(series: CurveSeries, chart: CurveChart, xOf: (i: number) => number, yOf: (v: number) => number): string {
  const { values } = series;
  let d = '';
  let runLength = 0;
  const lonely: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      if (runLength === 1) lonely.push(i - 1);
      runLength = 0;
      continue;
    }
    d += `${runLength === 0 ? 'M' : 'L'}${px(xOf(i))} ${px(yOf(values[i]))}`;
    runLength++;
  }
  if (runLength === 1) lonely.push(values.length - 1);

  const dash = series.dashed ? ' stroke-dasharray="5 4"' : '';
  const line = d ? `<path class="line" d="${d}" stroke="${series.color}"${dash}/>` : '';
  // Dots carry the per-epoch tooltip; a run of one point has no line and needs its dot to be seen.
  const dotted = values.length <= MAX_DOTTED_POINTS ? values.map((_, i) => i) : lonely;
  const dots = dotted.filter((i) => Number.isFinite(values[i])).map((i) => {
    const best = i === chart.bestIndex;
    return `<circle class="dot${best ? ' best-dot' : ''}" cx="${px(xOf(i))}" cy="${px(yOf(values[i]))}" r="${best ? 4.5 : 3}" fill="${series.color}">`
      + `<title>${escapeHtml(`epoch ${chart.epochs[i]} · ${series.label} ${chart.formatValue(values[i])}`)}</title></circle>`;
  }).join('');
  return `<g class="series" data-series="${escapeHtml(series.label)}">${line}${dots}</g>`;
}

function nonFiniteMarks(chart: CurveChart, xOf: (i: number) => number): string {
  const baseline = MARGIN.top + PLOT_H;
  const marks: string[] = [];
  for (let i = 0; i < chart.epochs.length; i++) {
    const bad = chart.series.filter((s) => i < s.values.length && !Number.isFinite(s.values[i]));
    if (bad.length === 0) continue;
    const what = bad.map((s) => `${s.label} is ${Number.isNaN(s.values[i]) ? 'NaN' : 'infinite'}`).join(', ');
    marks.push(`<text class="nonfinite" x="${px(xOf(i))}" y="${baseline - 4}" text-anchor="middle">×<title>${escapeHtml(`epoch ${chart.epochs[i]}: ${what}`)}</title></text>`);
  }
  return marks.join('');
}

function legend(series: CurveSeries[]): string {
  let x = MARGIN.left;
  return series.map((s) => {
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    const item = `<line x1="${x}" x2="${x + 18}" y1="12" y2="12" stroke="${s.color}" stroke-width="2.5"${dash}/>`
      + `<text class="legend" x="${x + 24}" y="12" dominant-baseline="middle">${escapeHtml(s.label)}</text>`;
    x += 24 + s.label.length * 7 + 18;
    return item;
  }).join('');
}
