import { abbreviateAll, escapeHtml, formatInteger, formatPercent, px } from './report-html.ts';

/**
 * The confusion matrix as an SVG heatmap. Colour is each count's share of its actual-class row
 * (recall on the diagonal, confusion elsewhere), so a rare class is as visible as a common one;
 * correct and wrong cells use different hues so the diagonal reads at a glance. Cells stay square
 * and scroll rather than shrink below legibility when there are many classes; counts are written
 * in the cells only while they fit.
 */

const TARGET_SIZE = 560;
const MIN_CELL = 10;
const MAX_CELL = 60;
/** Below this cell size a count would not fit, even in small type; tooltips still carry it. */
const MIN_CELL_FOR_COUNTS = 26;

const BLANK: Rgb = [246, 247, 249];
const CORRECT: Rgb = [29, 78, 216];
const CONFUSED: Rgb = [220, 38, 38];

type Rgb = [number, number, number];

export function confusionHeatmap(classes: string[], confusion: number[][]): string {
  const n = classes.length;
  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(TARGET_SIZE / Math.max(1, n))));
  const showCounts = cell >= MIN_CELL_FOR_COUNTS;
  const labelFont = Math.max(8, Math.min(12.5, cell * 0.75));
  const maxChars = n <= 12 ? 20 : 14;
  const labels = abbreviateAll(classes, maxChars);
  // A rough width per character is enough to reserve room; labels are clipped by nothing.
  const labelWidth = Math.max(...labels.map((l) => Array.from(l).length), 4) * labelFont * 0.58 + 8;
  const diagonalLabels = n <= 12;
  const angle = diagonalLabels ? 45 : 90;
  const sin = Math.sin((angle * Math.PI) / 180);
  const cos = Math.cos((angle * Math.PI) / 180);

  const left = labelWidth + 22;
  const top = labelWidth * sin + 30;
  const right = diagonalLabels ? Math.max(16, labelWidth * cos - cell / 2) : 16;
  const width = left + n * cell + right;
  const height = top + n * cell + 8;
  const rowTotals = confusion.map((row) => row.reduce((a, b) => a + b, 0));

  const parts: string[] = [];
  parts.push(`<text class="axis-label" x="${px(left + (n * cell) / 2)}" y="14" text-anchor="middle">predicted</text>`);
  parts.push(`<text class="axis-label" transform="translate(12 ${px(top + (n * cell) / 2)}) rotate(-90)" text-anchor="middle">actual</text>`);

  for (let j = 0; j < n; j++) {
    const x = left + j * cell + cell / 2;
    const y = top - 6;
    parts.push(`<text class="col-label" font-size="${px(labelFont)}" transform="translate(${px(x)} ${px(y)}) rotate(-${angle})"`
      + ` dominant-baseline="middle">${escapeHtml(labels[j])}<title>${escapeHtml(classes[j])}</title></text>`);
  }
  for (let i = 0; i < n; i++) {
    const y = top + i * cell + cell / 2;
    const title = rowTotals[i] === 0 ? `${classes[i]} (no validation images)` : `${classes[i]}: ${rowTotals[i]} validation images`;
    parts.push(`<text class="row-label" font-size="${px(labelFont)}" x="${px(left - 6)}" y="${px(y)}" text-anchor="end"`
      + ` dominant-baseline="middle">${escapeHtml(labels[i])}<title>${escapeHtml(title)}</title></text>`);
  }

  const countFont = Math.min(13, cell * 0.36);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const count = confusion[i][j];
      const share = rowTotals[i] > 0 ? count / rowTotals[i] : 0;
      const fill = cellColor(share, i === j);
      const x = left + j * cell;
      const y = top + i * cell;
      const tip = `actual ${classes[i]} → predicted ${classes[j]}: ${formatInteger(count)}`
        + (rowTotals[i] > 0 ? ` (${formatPercent(share)} of ${classes[i]})` : '');
      parts.push(`<rect class="cell" data-actual="${i}" data-predicted="${j}" x="${px(x)}" y="${px(y)}" width="${cell}" height="${cell}" fill="${fill}">`
        + `<title>${escapeHtml(tip)}</title></rect>`);
      if (showCounts) {
        const ink = textColorOn(share, i === j);
        parts.push(`<text class="count" x="${px(x + cell / 2)}" y="${px(y + cell / 2)}" font-size="${px(countFont)}" fill="${ink}"`
          + ` text-anchor="middle" dominant-baseline="central">${formatInteger(count)}</text>`);
      }
    }
  }
  parts.push(`<rect class="frame" x="${px(left)}" y="${px(top)}" width="${n * cell}" height="${n * cell}"/>`);

  return `<svg class="heatmap" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}" role="img"`
    + ` aria-label="Confusion matrix" xmlns="http://www.w3.org/2000/svg"><title>Confusion matrix</title>${parts.join('')}</svg>`;
}

/**
 * Small shares must stay visible (a 5% confusion is worth seeing), so intensity grows with the
 * square root of the share rather than linearly. The legend samples this same function.
 */
export function cellColor(share: number, correct: boolean): string {
  if (share <= 0) return rgb(BLANK);
  const t = Math.sqrt(Math.min(1, share));
  return rgb(mix(BLANK, correct ? CORRECT : CONFUSED, 0.08 + 0.92 * t));
}

function textColorOn(share: number, correct: boolean): string {
  if (share <= 0) return '#9aa3ae';
  return Math.sqrt(share) > (correct ? 0.5 : 0.62) ? '#ffffff' : '#1f2933';
}

/** CSS gradient stops for the legend, sampled from `cellColor`. */
export function legendGradient(correct: boolean): string {
  const stops = [0.001, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1].map((s) => `${cellColor(s, correct)} ${px(s * 100)}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

export interface ConfusedPair {
  actual: string;
  predicted: string;
  count: number;
  /** Share of the actual class's validation images. */
  share: number;
}

/** The largest off-diagonal cells, the readable summary of a matrix too big to scan. */
export function mostConfusedPairs(classes: string[], confusion: number[][], limit: number): ConfusedPair[] {
  const pairs: ConfusedPair[] = [];
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, j) => {
      if (i !== j && count > 0) pairs.push({ actual: classes[i], predicted: classes[j], count, share: count / total });
    });
  });
  return pairs.sort((a, b) => b.count - a.count || b.share - a.share).slice(0, limit);
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * t)) as Rgb;
}

function rgb([r, g, b]: Rgb): string {
  return `rgb(${r},${g},${b})`;
}
