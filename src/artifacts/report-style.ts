/**
 * The report's stylesheet, inlined so the file needs nothing from the network. System fonts only;
 * numbers use tabular figures so columns of metrics line up.
 */
export const REPORT_CSS = `
:root {
  color-scheme: light;
  --ink: #1f2933; --muted: #616e7c; --faint: #9aa5b1; --line: #e4e7eb; --panel: #ffffff; --page: #f5f7fa;
  --accent: #2563eb; --val: #ea580c; --good: #15803d; --bad: #dc2626;
}
* { box-sizing: border-box; }
html { background: var(--page); }
body {
  margin: 0; color: var(--ink); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
  -webkit-font-smoothing: antialiased;
}
.page { max-width: 1240px; margin: 0 auto; padding: 28px 28px 40px; }
header { margin-bottom: 20px; }
.eyebrow { font-size: 12px; letter-spacing: .08em; text-transform: uppercase; color: var(--muted); font-weight: 600; }
h1 { font-size: 26px; line-height: 1.25; margin: 4px 0 4px; font-weight: 650; overflow-wrap: anywhere; }
.meta { color: var(--muted); margin: 0 0 18px; }
.meta strong { color: var(--ink); font-weight: 600; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 9px 16px; min-width: 110px; max-width: 100%; flex: 0 1 auto; }
.card .key { font-size: 11.5px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; overflow-wrap: anywhere; }
.card .value { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: break-word; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 18px 22px 20px; margin-top: 18px; }
h2 { font-size: 17px; margin: 0 0 4px; font-weight: 650; }
.note { color: var(--muted); margin: 0 0 14px; font-size: 13px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 8px 28px; }
figure { margin: 0; }
figcaption { font-weight: 600; font-size: 13.5px; margin-bottom: 2px; }
svg { font-family: inherit; }
svg.curve { width: 100%; height: auto; display: block; }
svg .grid { stroke: #edf0f3; stroke-width: 1; }
svg .axis { stroke: #9aa5b1; stroke-width: 1; }
svg .tick { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
svg .axis-label { fill: var(--muted); font-size: 11.5px; }
svg .legend { fill: var(--ink); font-size: 12px; }
svg .line { fill: none; stroke-width: 2.25; stroke-linejoin: round; stroke-linecap: round; }
svg .dot { stroke: #fff; stroke-width: 1.25; }
svg .best-dot { stroke: var(--good); stroke-width: 2; }
svg .best { stroke: var(--good); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg .best-label { fill: var(--good); font-size: 11.5px; font-weight: 600; }
svg .phase-edge { stroke: #cbd2d9; stroke-width: 1; }
svg .phase { fill: var(--faint); font-size: 11px; font-style: italic; }
svg .nonfinite { fill: var(--bad); font-size: 13px; font-weight: 700; }
svg .empty { fill: var(--faint); font-size: 13px; }
svg .row-label, svg .col-label { fill: var(--ink); }
svg .count { font-variant-numeric: tabular-nums; font-weight: 600; pointer-events: none; }
svg .cell { stroke: #fff; stroke-width: 1; }
svg .cell:hover { stroke: var(--ink); stroke-width: 1.5; }
svg .frame { fill: none; stroke: #cbd2d9; stroke-width: 1; }
.scroll { overflow: auto; max-width: 100%; }
.heatmap-row { display: flex; flex-wrap: wrap; gap: 18px 36px; align-items: flex-start; }
.legend-scale { display: grid; grid-template-columns: max-content 160px; justify-content: start; gap: 6px 10px; align-items: center; font-size: 12px; color: var(--muted); margin-top: 10px; }
.legend-scale .bar { height: 10px; border-radius: 3px; border: 1px solid var(--line); }
.legend-scale .ends { grid-column: 2; display: flex; justify-content: space-between; font-size: 11px; margin-top: -4px; }
.pairs { flex: 1 1 320px; min-width: 0; max-width: 560px; }
.pairs h3 { font-size: 13.5px; margin: 0 0 6px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 12px; text-align: left; border-bottom: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
td.num, th.num { text-align: right; }
td.cls { overflow-wrap: break-word; max-width: 360px; }
th { white-space: nowrap; }
table.metrics { min-width: 70%; }
table.metrics td.metric { position: relative; width: 14%; }
.meter { display: inline-block; vertical-align: middle; width: 64px; height: 6px; border-radius: 3px; background: #edf0f3; margin-right: 10px; overflow: hidden; }
.meter > span { display: block; height: 100%; border-radius: 3px; background: var(--accent); }
.meter.low > span { background: var(--bad); }
.meter.mid > span { background: #d97706; }
tfoot td { font-weight: 600; border-bottom: none; border-top: 2px solid var(--line); }
tr.best-row td { background: #f0fdf4; }
details { margin-top: 14px; }
summary { cursor: pointer; color: var(--accent); font-weight: 600; font-size: 13px; }
details table { margin-top: 8px; font-size: 13px; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 14px; }
.wrong { margin: 0; border: 1px solid var(--line); border-radius: 10px; overflow: hidden; background: var(--panel); min-width: 0; }
.thumb { display: block; width: 100%; height: 140px; object-fit: contain; background: #eef1f4; }
.thumb.missing { display: flex; align-items: center; justify-content: center; color: var(--faint); font-size: 12px; text-align: center; padding: 10px; }
.wrong figcaption { padding: 8px 10px 10px; font-weight: 400; font-size: 12.5px; line-height: 1.4; }
.wrong figcaption > div { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wrong .prob { display: inline-block; font-weight: 700; color: #fff; background: var(--bad); border-radius: 4px; padding: 0 5px; margin-right: 6px; font-size: 11.5px; font-variant-numeric: tabular-nums; }
.wrong .predicted { color: var(--bad); font-weight: 600; }
.wrong .actual { color: var(--muted); }
.wrong .actual b { color: var(--ink); font-weight: 600; }
.wrong .file { color: var(--faint); font-size: 11.5px; }
.empty-state { color: var(--muted); padding: 18px; text-align: center; background: #f8fafb; border-radius: 8px; }
footer { color: var(--faint); font-size: 12px; margin-top: 22px; text-align: center; }
`;
