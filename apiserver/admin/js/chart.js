// Charts drawn as inline SVG: a line chart of a value over time and a stacked bar chart
// of counts over time. Each has a text title and description for assistive technology;
// the pages also offer the numbers as a table.

import { svg, uid } from './ui.js';

const W = 960;
const H = 280;
const PAD = { top: 16, right: 24, bottom: 40, left: 72 };

function niceMax(v) {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * exp >= v) return m * exp;
  }
  return 10 * exp;
}

function timeLabel(t, spanMs) {
  const d = new Date(t);
  if (spanMs > 2 * 24 * 3600e3) return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  if (spanMs > 12 * 3600e3) return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

// countMax rounds a count up so that the four grid steps are whole numbers.
function countMax(v) {
  const step = Math.max(1, Math.ceil(niceMax(v) / 4));
  return step * 4;
}

// frame draws the axes, the horizontal grid and the labels; it returns the scales.
function frame(root, { t0, t1, yMax, yFormat }) {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const span = Math.max(1, t1 - t0);
  const x = (t) => PAD.left + ((t - t0) / span) * iw;
  const y = (v) => PAD.top + ih - (v / yMax) * ih;
  const grid = svg('g', { class: 'grid', 'aria-hidden': 'true' });
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    grid.append(
      svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }),
      svg('text', { x: PAD.left - 8, y: y(v) + 4, 'text-anchor': 'end' }, yFormat(v)));
  }
  const ticks = t1 > t0 ? [[t0, 'start'], [t0 + span / 2, 'middle'], [t1, 'end']] : [[t0, 'start']];
  for (const [t, anchor] of ticks) {
    grid.append(svg('text', { x: x(t), y: H - PAD.bottom + 22, 'text-anchor': anchor }, timeLabel(t, span)));
  }
  grid.append(svg('line', { class: 'axis', x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0) }));
  root.append(grid);
  return { x, y, iw, span };
}

function chartRoot(title, desc) {
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  return svg('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': `${titleId} ${descId}`,
    preserveAspectRatio: 'xMidYMid meet',
  }, svg('title', { id: titleId }, title), svg('desc', { id: descId }, desc));
}

/**
 * lineChart draws points [{t (ms), v, label}] over the time range [t0, t1] as a line
 * with dots; each dot has a tooltip. yFormat formats the axis (e.g. v => v + ' ms').
 */
export function lineChart(points, { title, desc, t0, t1, yFormat = String }) {
  const root = chartRoot(title, desc);
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const yMax = niceMax(Math.max(0, ...sorted.map((p) => p.v)) * 1.1);
  const { x, y } = frame(root, { t0, t1, yMax, yFormat });
  if (sorted.length > 1) {
    const d = sorted.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    root.append(svg('path', { class: 'line', d }));
  }
  const dots = svg('g', { class: 'dots' });
  for (const p of sorted) {
    dots.append(svg('circle', { cx: x(p.t), cy: y(p.v), r: 4, class: 'dot' }, svg('title', {}, p.label)));
  }
  root.append(dots);
  return root;
}

/**
 * barChart draws stacked bars [{t, values: [a, b]}], one per bucket of bucketMs, over
 * the time range [t0, t1], with series [{name, class}].
 */
export function barChart(bars, series, { title, desc, t0, t1, bucketMs }) {
  const root = chartRoot(title, desc);
  const sorted = [...bars].sort((a, b) => a.t - b.t);
  const yMax = countMax(Math.max(1, ...sorted.map((b) => b.values.reduce((s, v) => s + v, 0))));
  const { x, y } = frame(root, { t0, t1, yMax, yFormat: (v) => String(Math.round(v)) });
  const g = svg('g', { class: 'bars' });
  for (const b of sorted) {
    const w = Math.max(3, x(Math.min(b.t + bucketMs, t1)) - x(b.t) - 2);
    let base = 0;
    b.values.forEach((v, i) => {
      if (!v) return;
      g.append(svg('rect', { x: x(b.t) + 1, y: y(base + v), width: w, height: y(base) - y(base + v), class: series[i].class },
        svg('title', {}, `${new Date(b.t).toLocaleString()}: ${v} ${series[i].name}`)));
      base += v;
    });
  }
  root.append(g);
  return root;
}
