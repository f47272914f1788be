// Health: delivery success rate, average response time, error frequency and queue depth
// for a time range, with the response time and the deliveries over time drawn as SVG.

import { api } from './api.js';
import { h, pageHeader, notice, errorNotice, formatMs, rangeSelect, rangeDates, RANGES } from './ui.js';
import { lineChart, barChart } from './chart.js';

const BUCKET_MS = { minute: 60e3, hour: 3600e3, day: 24 * 3600e3 };

/** renderHealth renders the health page for ?range=. */
export async function renderHealth(main, ctx) {
  document.title = 'Health · Hookflow admin';
  const range = RANGES.some((r) => r.value === ctx.query.get('range')) ? ctx.query.get('range') : '24h';
  const rangeLabel = RANGES.find((r) => r.value === range).label.toLowerCase();
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading the reports…'));
  main.replaceChildren(h('section', { class: 'page' },
    pageHeader('Health'),
    h('p', { class: 'muted lead' }, 'How your webhooks are doing: every delivery of the organization\'s extension, all companies.'),
    h('div', { class: 'toolbar' },
      rangeSelect(range, (v) => ctx.navigate('/health', { range: v })),
      h('div', { class: 'field field-button' }, h('button', { type: 'button', class: 'btn', onclick: () => renderHealth(main, ctx) }, 'Refresh'))),
    body));

  const q = rangeDates(range);
  const t0 = Date.parse(q.start_date);
  const t1 = Date.parse(q.end_date);
  let summary;
  let rt;
  let ts;
  let queue;
  try {
    [summary, rt, ts, queue] = await Promise.all([api.deliverySummary(q), api.responseTimeTS(q), api.deliveryTS(q), api.queue()]);
  } catch (err) {
    if (ctx.active()) body.replaceChildren(errorNotice(err, 'Could not load the reports'));
    return;
  }
  if (!ctx.active()) return;

  const s = summary?.delivery_summary ?? { success: 0, failed: 0, failed_percentage: 0, response_time: 0 };
  const ended = s.success + s.failed;
  const rate = ended ? (s.success * 100) / ended : null;
  const rtPoints = responseTimePoints(rt?.avg_response_time_ts ?? []);
  const bucket = rt?.bucket || ts?.bucket || 'hour';
  const bars = (ts?.delivery_ts ?? []).map((p) => ({ t: Date.parse(p.timestamp), values: [p.success, p.failed] }));

  body.replaceChildren(
    h('ul', { class: 'metrics', 'aria-label': `Key metrics, ${rangeLabel}` },
      metric('success-rate', 'Delivery success rate', rate === null ? '—' : `${rate.toFixed(rate === 100 || rate === 0 ? 0 : 1)}%`,
        ended ? `${s.success} of ${ended} ended deliveries succeeded` : 'No delivery ended in this range', rate !== null && rate < 95 ? 'bad' : 'ok'),
      metric('avg-response', 'Average response time', s.response_time ? formatMs(s.response_time) : '—',
        'Of the attempts that got an answer', s.response_time > 5000 ? 'bad' : 'ok'),
      metric('error-frequency', 'Error frequency', `${s.failed_percentage ?? 0}%`,
        `${s.failed} failed ${s.failed === 1 ? 'delivery' : 'deliveries'} ${perHour(s.failed, range)}`, s.failed ? 'bad' : 'ok'),
      metric('queue-depth', 'Queue depth', String(queue?.queue_depth ?? 0),
        `${queue?.queued ?? 0} queued for inactive or blocked webhooks, ${queue?.in_flight ?? 0} in flight (now)`, (queue?.queued ?? 0) > 0 ? 'warn' : 'ok')),
    h('section', { class: 'card', 'aria-labelledby': 'rt-title' },
      h('h2', { id: 'rt-title' }, 'Response time'),
      rtPoints.length
        ? [lineChart(rtPoints, {
          t0, t1,
          title: `Average response time per ${bucket}, ${rangeLabel}`,
          desc: `${rtPoints.length} points from ${formatMs(Math.min(...rtPoints.map((p) => p.v)))} to ${formatMs(Math.max(...rtPoints.map((p) => p.v)))}.`,
          yFormat: (v) => formatMs(v),
        }), dataTable(['Time', 'Average response time', 'Attempts'], rtPoints.map((p) => [new Date(p.t).toLocaleString(), formatMs(p.v), String(p.n)]))]
        : notice('info', 'No attempt in this range.')),
    h('section', { class: 'card', 'aria-labelledby': 'ts-title' },
      h('h2', { id: 'ts-title' }, 'Deliveries'),
      bars.length
        ? [barChart(bars, [{ name: 'succeeded', class: 'bar-ok' }, { name: 'failed', class: 'bar-bad' }], {
          t0, t1,
          title: `Deliveries per ${bucket}, ${rangeLabel}`,
          desc: `${s.success} succeeded and ${s.failed} failed.`,
          bucketMs: BUCKET_MS[bucket] ?? 3600e3,
        }), h('p', { class: 'legend' }, h('span', { class: 'key key-ok', 'aria-hidden': 'true' }), ' succeeded ',
          h('span', { class: 'key key-bad', 'aria-hidden': 'true' }), ' failed'),
        dataTable(['Time', 'Succeeded', 'Failed'], bars.map((b) => [new Date(b.t).toLocaleString(), String(b.values[0]), String(b.values[1])]))]
        : notice('info', 'No delivery in this range.')),
    eventTable(summary?.delivery_event_level ?? []));
}

// responseTimePoints merges the rows of one bucket (one per response code and attempt)
// into the average over all of them, weighted by their counts.
function responseTimePoints(rows) {
  const byBucket = new Map();
  for (const r of rows) {
    const t = Date.parse(r.last_attempted_on);
    const cur = byBucket.get(t) ?? { sum: 0, n: 0 };
    cur.sum += Number(r.response_time) * r.total;
    cur.n += r.total;
    byBucket.set(t, cur);
  }
  return [...byBucket].map(([t, { sum, n }]) => {
    const v = n ? sum / n : 0;
    return { t, v, n, label: `${new Date(t).toLocaleString()}: ${formatMs(v)} average over ${n} attempts` };
  });
}

function perHour(failed, range) {
  const hours = (RANGES.find((r) => r.value === range)?.ms ?? 3600e3) / 3600e3;
  if (!failed) return 'in this range';
  return `(${(failed / hours).toFixed(failed / hours < 1 ? 2 : 1)} an hour)`;
}

function metric(id, label, value, note, tone) {
  return h('li', { class: `metric tone-${tone}`, id },
    h('span', { class: 'metric-label' }, label),
    h('span', { class: 'metric-value' }, value),
    h('span', { class: 'metric-note' }, note));
}

function dataTable(headers, rows) {
  return h('details', { class: 'data-table' }, h('summary', {}, 'Show the numbers'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, headers.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))))));
}

function eventTable(levels) {
  if (!levels.length) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'ev-title' },
    h('h2', { id: 'ev-title' }, 'By event'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive' },
      h('thead', {}, h('tr', {}, ['Event', 'Succeeded', 'Failed', 'Failed %', 'Total', 'Avg response'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, levels.map((l) => h('tr', {},
        h('td', { 'data-label': 'Event' }, h('code', { class: 'slug' }, l.event)),
        h('td', { 'data-label': 'Succeeded' }, String(l.success)),
        h('td', { 'data-label': 'Failed' }, String(l.failed)),
        h('td', { 'data-label': 'Failed %' }, `${l.failed_percentage}%`),
        h('td', { 'data-label': 'Total' }, String(l.total)),
        h('td', { 'data-label': 'Avg response' }, l.response_time ? formatMs(l.response_time) : '—')))))));
}
