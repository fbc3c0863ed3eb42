/**
 * Text and number helpers shared by the report's HTML and SVG. Every string that comes from the
 * data (class names and file names are users' folder names) goes through `escapeHtml`: the report
 * must show `<script>` as text, in element content and in attributes alike.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/** A fraction in [0, 1] as a percentage; "–" for values that are not finite. */
export function formatPercent(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : '–';
}

/** Losses and other reals: four significant digits is what a reader compares. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value)) return formatInteger(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return formatInteger(Math.round(value));
  if (magnitude < 1e-3) return value.toExponential(2);
  return Number(value.toPrecision(4)).toString();
}

/** Thousands separated by a thin space, the same whatever the reader's locale. */
export function formatInteger(value: number): string {
  const sign = value < 0 ? '−' : '';
  return sign + Math.abs(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

type Cut = 'end' | 'middle' | 'start';

/**
 * Shortens labels for tight axes so that they stay told apart: whichever cut (keep the start,
 * both ends, or the end) leaves the most distinct labels wins. Synset-style names differ at the
 * start ("n01440764_tench"), numbered ones in the middle ("class_022_birch_leaves"), others at the
 * end. The full text stays available in a tooltip.
 */
export function abbreviateAll(texts: string[], maxChars: number): string[] {
  const cuts: Cut[] = ['end', 'middle', 'start'];
  let best: string[] = texts;
  let bestDistinct = -1;
  for (const cut of cuts) {
    const labels = texts.map((t) => abbreviate(t, maxChars, cut));
    const distinct = new Set(labels).size;
    if (distinct > bestDistinct) {
      best = labels;
      bestDistinct = distinct;
    }
  }
  return best;
}

export function abbreviate(text: string, maxChars: number, cut: Cut = 'end'): string {
  const chars = Array.from(text);
  if (chars.length <= maxChars) return text;
  const keep = Math.max(1, maxChars - 1);
  if (cut === 'end') return `${chars.slice(0, keep).join('')}…`;
  if (cut === 'start') return `…${chars.slice(-keep).join('')}`;
  const head = Math.ceil(keep * 0.6);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (keep - head)).join('')}`;
}

/** SVG coordinates: two decimals are sub-pixel already and keep the file small. */
export function px(value: number): string {
  return Number(value.toFixed(2)).toString();
}
