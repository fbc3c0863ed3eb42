import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { curveChart, type CurveSeries } from './report-curves.ts';
import { confusionHeatmap, legendGradient, mostConfusedPairs } from './report-heatmap.ts';
import { escapeHtml, formatInteger, formatNumber, formatPercent } from './report-html.ts';
import { REPORT_CSS } from './report-style.ts';
import { imageThumbnail } from './report-thumbnail.ts';
import { checkNumber, checkString, invalidParameter, invalidType, received } from '../errors/index.ts';
import { writeFileAtomic } from '../formats/atomic-write.ts';

/**
 * The training report: one self-contained HTML file in the model folder (curves, confusion
 * heatmap, per-class metrics, the most confidently wrong validation images). Nothing is loaded
 * from elsewhere and the page runs no script, so it opens offline, from an archive or an email,
 * and a Content-Security-Policy says so to the browser as a second line behind escaping.
 */

import type { EpochRecord } from '../train/history.ts';
export type { EpochRecord };
import { showsTop5, type ClassMetrics } from '../train/metrics.ts';
export type { ClassMetrics };
export interface WrongPrediction { file: string; actual: string; predicted: string; prob: number }
export interface ReportInput {
  title: string;              // e.g. "hymenoptera · mobilenet_v2 · frozen"
  classes: string[];
  history: EpochRecord[];     // epoch numbers as shown, counting from 1
  bestEpoch: number;          // index into history
  confusion: number[][];      // [actual][predicted] counts on validation at the best epoch
  perClass: ClassMetrics[];
  wrong: WrongPrediction[];   // most confidently wrong validation images, largest prob first (show up to 16)
  summary: Record<string, string | number>;  // model, weights, mode, epochs, best val acc, wall time, images, skipped files, ...
  createdAt: string;
}

export interface RenderReportOptions {
  /** Turns an image file into a data: URI, or null when it cannot be read. Defaults to a 128 px JPEG. */
  thumbnail?: (file: string) => Promise<string | null>;
}

export const REPORT_FILE = 'report.html';
/** More thumbnails make the file heavy without telling more: the worst few show the pattern. */
export const MAX_WRONG_SHOWN = 16;
const MAX_CONFUSED_PAIRS = 8;

const TRAIN_COLOR = '#2563eb';
const VAL_COLOR = '#ea580c';
const TOP5_COLOR = '#f59e0b';
const BALANCED_COLOR = '#7c3aed';

export async function renderReport(input: ReportInput, opts: RenderReportOptions = {}): Promise<string> {
  checkReportInput(input);
  const shown = input.wrong.slice(0, MAX_WRONG_SHOWN);
  const thumbnail = opts.thumbnail ?? imageThumbnail;
  const thumbnails = await Promise.all(shown.map((w) => safeThumbnail(thumbnail, w.file)));

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${escapeHtml(input.title)} · training report</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<div class="page">
${headerSection(input)}
${curvesSection(input)}
${confusionSection(input)}
${perClassSection(input)}
${wrongSection(input, shown, thumbnails)}
<footer>graft training report · ${escapeHtml(input.createdAt)}</footer>
</div>
</body>
</html>
`;
}

/** Writes `report.html` into `dir` through a temporary file and a rename, so a reader never sees half a report. */
export async function writeReport(dir: string, input: ReportInput): Promise<string> {
  const html = await renderReport(input);
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, REPORT_FILE);
  await writeFileAtomic(target, [new TextEncoder().encode(html)]);
  return target;
}

async function safeThumbnail(thumbnail: (file: string) => Promise<string | null>, file: string): Promise<string | null> {
  let uri: string | null;
  try {
    uri = await thumbnail(file);
  } catch {
    return null;
  }
  if (uri !== null && !/^data:image\/[a-z0-9.+-]+[;,]/i.test(uri)) {
    // Anything but a data: URI would make the report depend on files or servers beside it.
    throw invalidType(`the thumbnail of ${file}`, 'a data:image/ URI or null', uri);
  }
  return uri;
}

function headerSection(input: ReportInput): string {
  const best = input.history[input.bestEpoch];
  const facts = [`<strong>${formatInteger(input.classes.length)}</strong> classes`, `<strong>${formatInteger(input.history.length)}</strong> epoch${input.history.length === 1 ? '' : 's'}`];
  if (best) {
    const balanced = best.val_balanced_acc === undefined ? '' : `, balanced acc <strong>${formatPercent(best.val_balanced_acc)}</strong>`;
    facts.push(`best epoch <strong>${formatInteger(best.epoch)}</strong>: val acc <strong>${formatPercent(best.val_acc)}</strong>${balanced}, val loss <strong>${formatNumber(best.val_loss)}</strong>`);
  }
  const cards = Object.entries(input.summary).map(([key, value]) =>
    `<div class="card"><div class="key">${escapeHtml(key)}</div><div class="value">${escapeHtml(typeof value === 'number' ? formatNumber(value) : value)}</div></div>`).join('');
  return `<header>
<div class="eyebrow">graft · training report</div>
<h1>${escapeHtml(input.title)}</h1>
<p class="meta">${facts.join(' · ')} · <time datetime="${escapeHtml(input.createdAt)}">${escapeHtml(input.createdAt)}</time></p>
${cards ? `<div class="cards">${cards}</div>` : ''}
</header>`;
}

function curvesSection(input: ReportInput): string {
  const { history } = input;
  const epochs = history.map((h) => h.epoch);
  const phases = history.map((h) => h.phase);
  const bestIndex = history.length > 0 ? input.bestEpoch : undefined;
  const loss = curveChart({
    title: 'Loss', epochs, phases, bestIndex, formatValue: formatNumber,
    series: [
      { label: 'train', values: history.map((h) => h.train_loss), color: TRAIN_COLOR },
      { label: 'validation', values: history.map((h) => h.val_loss), color: VAL_COLOR },
    ],
  });
  const accuracySeries: CurveSeries[] = [
    { label: 'train', values: history.map((h) => h.train_acc), color: TRAIN_COLOR },
    { label: 'validation', values: history.map((h) => h.val_acc), color: VAL_COLOR },
  ];
  if (hasBalanced(input)) {
    accuracySeries.push({ label: 'validation balanced', values: history.map((h) => h.val_balanced_acc ?? Number.NaN), color: BALANCED_COLOR, dashed: true });
  }
  if (hasTop5(input)) {
    accuracySeries.push({ label: 'validation top-5', values: history.map((h) => h.val_top5 ?? Number.NaN), color: TOP5_COLOR, dashed: true });
  }
  const accuracy = curveChart({
    title: 'Accuracy', epochs, phases, bestIndex, series: accuracySeries, limits: [0, 1],
    formatValue: (v) => formatPercent(v, v === Math.round(v * 100) / 100 ? 0 : 1),
  });
  return `<section id="curves">
<h2>Training curves</h2>
<p class="note">Per epoch; the dashed green line marks the best epoch, whose weights were kept.</p>
<div class="charts">
<figure><figcaption>Loss</figcaption>${loss}</figure>
<figure><figcaption>Accuracy</figcaption>${accuracy}</figure>
</div>
${epochLog(input)}
</section>`;
}

function epochLog(input: ReportInput): string {
  const { history } = input;
  if (history.length === 0) return '';
  const top5 = hasTop5(input);
  const balanced = hasBalanced(input);
  const hasPhase = history.some((h) => h.phase);
  const head = ['epoch', ...(hasPhase ? ['phase'] : []), 'train loss', 'train acc', 'val loss', 'val acc', ...(balanced ? ['val balanced acc'] : []), ...(top5 ? ['val top-5'] : []), 'lr', 'seconds'];
  const rows = history.map((h, i) => {
    const cells = [
      num(formatInteger(h.epoch)),
      ...(hasPhase ? [`<td>${escapeHtml(h.phase ?? '')}</td>`] : []),
      num(formatNumber(h.train_loss)), num(formatPercent(h.train_acc)),
      num(formatNumber(h.val_loss)), num(formatPercent(h.val_acc)),
      ...(balanced ? [num(h.val_balanced_acc === undefined ? '–' : formatPercent(h.val_balanced_acc))] : []),
      ...(top5 ? [num(h.val_top5 === undefined ? '–' : formatPercent(h.val_top5))] : []),
      num(Number.isFinite(h.lr) ? h.lr.toExponential(2) : formatNumber(h.lr)), num(formatNumber(Math.round(h.seconds * 10) / 10)),
    ];
    return `<tr${i === input.bestEpoch ? ' class="best-row" title="best epoch"' : ''}>${cells.join('')}</tr>`;
  }).join('\n');
  return `<details>
<summary>Epoch log (${formatInteger(history.length)} epoch${history.length === 1 ? '' : 's'})</summary>
<div class="scroll"><table class="epochs">
<thead><tr>${head.map((h, i) => `<th${i === 0 || (hasPhase && i === 1) ? '' : ' class="num"'}>${h}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table></div>
</details>`;
}

/** Top-5 is shown only above five classes: with five or fewer, every answer is in the top five. */
function hasTop5(input: ReportInput): boolean {
  return showsTop5(input.classes.length) && input.history.some((h) => h.val_top5 !== undefined);
}

function hasBalanced(input: ReportInput): boolean {
  return input.history.some((h) => h.val_balanced_acc !== undefined);
}

function confusionSection(input: ReportInput): string {
  const { classes, confusion } = input;
  const total = confusion.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0);
  const correct = confusion.reduce((sum, row, i) => sum + row[i], 0);
  const pairs = mostConfusedPairs(classes, confusion, MAX_CONFUSED_PAIRS);
  const pairRows = pairs.map((p) =>
    `<tr><td class="cls">${escapeHtml(p.actual)}</td><td class="cls">${escapeHtml(p.predicted)}</td><td class="num">${formatInteger(p.count)}</td><td class="num">${formatPercent(p.share)}</td></tr>`).join('');
  const pairTable = pairs.length === 0
    ? '<p class="empty-state">No confusions: every validation image was classified correctly.</p>'
    : `<table class="confused"><thead><tr><th>actual</th><th>predicted as</th><th class="num">images</th><th class="num">of actual</th></tr></thead><tbody>${pairRows}</tbody></table>`;
  return `<section id="confusion">
<h2>Confusion matrix</h2>
<p class="note">Validation images at the best epoch: ${formatInteger(correct)} of ${formatInteger(total)} correct (${formatPercent(total > 0 ? correct / total : Number.NaN)}).
Rows are the actual class, columns the prediction; colour is the share of the row, so every class is read on the same scale. Hover a cell for its count.</p>
<div class="heatmap-row">
<div>
<div class="scroll">${confusionHeatmap(classes, confusion)}</div>
<div class="legend-scale">
<span>correct</span><span class="bar" style="background: ${legendGradient(true)}"></span>
<span>confused</span><span class="bar" style="background: ${legendGradient(false)}"></span>
<span class="ends"><span>0%</span><span>50%</span><span>100% of row</span></span>
</div>
</div>
<div class="pairs"><h3>Most frequent confusions</h3>${pairTable}</div>
</div>
</section>`;
}

function perClassSection(input: ReportInput): string {
  const rows = input.perClass.map((m) => `<tr><td class="cls">${escapeHtml(m.class)}</td>${metric(m.precision)}${metric(m.recall)}${metric(m.f1)}${num(formatInteger(m.support))}</tr>`).join('\n');
  const totalSupport = input.perClass.reduce((sum, m) => sum + m.support, 0);
  const mean = (pick: (m: ClassMetrics) => number, weighted: boolean): number => {
    const finite = input.perClass.filter((m) => Number.isFinite(pick(m)));
    const weight = (m: ClassMetrics): number => (weighted ? m.support : 1);
    const denominator = finite.reduce((sum, m) => sum + weight(m), 0);
    return denominator > 0 ? finite.reduce((sum, m) => sum + pick(m) * weight(m), 0) / denominator : Number.NaN;
  };
  const averageRow = (label: string, weighted: boolean): string =>
    `<tr><td>${label}</td>${metric(mean((m) => m.precision, weighted))}${metric(mean((m) => m.recall, weighted))}${metric(mean((m) => m.f1, weighted))}${num(formatInteger(totalSupport))}</tr>`;
  const foot = input.perClass.length > 1 ? `<tfoot>${averageRow('macro average', false)}${averageRow('weighted average', true)}</tfoot>` : '';
  return `<section id="per-class">
<h2>Per-class metrics</h2>
<p class="note">Validation at the best epoch. Support is the number of validation images of the class.</p>
<div class="scroll"><table class="metrics">
<thead><tr><th>class</th><th class="num">precision</th><th class="num">recall</th><th class="num">F1</th><th class="num">support</th></tr></thead>
<tbody>
${rows}
</tbody>${foot}</table></div>
</section>`;
}

function wrongSection(input: ReportInput, shown: WrongPrediction[], thumbnails: (string | null)[]): string {
  const total = input.wrong.length;
  const note = total === 0
    ? ''
    : `<p class="note">Validation images the model got wrong with the highest confidence${total > shown.length ? `: the first ${shown.length} of ${formatInteger(total)}` : ''}. Often a mislabelled file or an ambiguous picture.</p>`;
  const misclassified = input.confusion.reduce((sum, row, i) => sum + row.reduce((a, b) => a + b, 0) - row[i], 0);
  // An empty list beside a matrix with errors means none were recorded, not that none happened.
  const body = total === 0
    ? `<p class="empty-state">${misclassified === 0 ? 'No misclassified validation images.' : `No images recorded for the ${formatInteger(misclassified)} misclassified validation images.`}</p>`
    : `<div class="gallery">${shown.map((w, i) => wrongCard(w, thumbnails[i])).join('\n')}</div>`;
  return `<section id="wrong">
<h2>Most confidently wrong</h2>
${note}
${body}
</section>`;
}

function wrongCard(w: WrongPrediction, thumbnail: string | null): string {
  const image = thumbnail
    ? `<img class="thumb" src="${escapeHtml(thumbnail)}" alt="${escapeHtml(`${w.actual} predicted as ${w.predicted}`)}" loading="eager">`
    : '<div class="thumb missing" role="img" aria-label="image unavailable">image unavailable</div>';
  return `<figure class="wrong" title="${escapeHtml(w.file)}">${image}<figcaption>
<div title="${escapeHtml(`predicted ${w.predicted} with probability ${formatPercent(w.prob)}`)}"><span class="prob">${formatPercent(w.prob)}</span><span class="predicted">${escapeHtml(w.predicted)}</span></div>
<div class="actual" title="${escapeHtml(`actual class: ${w.actual}`)}">actually <b>${escapeHtml(w.actual)}</b></div>
<div class="file">${escapeHtml(shortPath(w.file))}</div>
</figcaption></figure>`;
}

/** The class folder and file name say which image it is; the full path is in the tooltip. */
function shortPath(file: string): string {
  const parts = file.split(/[\\/]/).filter(Boolean);
  return parts.slice(-2).join('/');
}

function num(text: string): string {
  return `<td class="num">${text}</td>`;
}

function metric(value: number): string {
  if (!Number.isFinite(value)) return num('–');
  const level = value < 0.5 ? ' low' : value < 0.8 ? ' mid' : '';
  const width = Math.max(0, Math.min(1, value)) * 100;
  return `<td class="num metric"><span class="meter${level}"><span style="width: ${width.toFixed(1)}%"></span></span>${value.toFixed(3)}</td>`;
}

/** Refuses inputs whose parts disagree, naming the part and the values, before any HTML is built. */
function checkReportInput(input: ReportInput): void {
  const n = input.classes.length;
  checkString('title', input.title);
  if (input.history.length > 0 && !(Number.isInteger(input.bestEpoch) && input.bestEpoch >= 0 && input.bestEpoch < input.history.length)) {
    throw invalidParameter('bestEpoch', `integer between 0 and ${input.history.length - 1} (an index into history)`, input.bestEpoch);
  }
  if (input.confusion.length !== n) {
    throw invalidParameter('confusion', `${n} rows (one per class)`, received(`${input.confusion.length} rows`));
  }
  input.confusion.forEach((row, i) => {
    if (row.length !== n) throw invalidParameter(`confusion row ${i} (${input.classes[i]})`, `${n} columns`, received(`${row.length} columns`));
    row.forEach((count, j) => checkNumber(`confusion[${i}][${j}]`, count, { min: 0 }));
  });
}
