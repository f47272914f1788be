// The delivery log (POST …/report/delivery_details over a time range) and one
// delivery's attempts (GET …/delivery/{id}), with Retry and a link into Temporal UI.

import { api } from './api.js';
import { h, announce, deliveryBadge, pageHeader, notice, errorNotice, pager, formatMs, timeEl, rangeSelect, rangeDates } from './ui.js';

const PAGE_SIZE = 20;
const STATUSES = ['succeeded', 'failed', 'retrying', 'pending', 'queued', 'filtered', 'discarded', 'filter_error'];
// Statuses a delivery ends with: only those can be retried.
const FINAL = new Set(['succeeded', 'failed', 'filtered', 'discarded', 'filter_error']);

/** renderDeliveryLog lists recent deliveries; the hash query holds range, status, page. */
export async function renderDeliveryLog(main, ctx) {
  document.title = 'Delivery log · Hookflow admin';
  const range = ctx.query.get('range') || '24h';
  const status = ctx.query.get('status') || '';
  const pageNo = Math.max(1, Number(ctx.query.get('page')) || 1);
  const go = (changes) => ctx.navigate('/deliveries', { range, status, page: '', ...changes });

  const statusId = 'delivery-status';
  const toolbar = h('div', { class: 'toolbar' },
    rangeSelect(range, (v) => go({ range: v })),
    h('div', { class: 'field' }, h('label', { for: statusId }, 'Status'),
      h('select', { id: statusId, onchange: (e) => go({ status: e.target.value }) },
        h('option', { value: '' }, 'All statuses'),
        STATUSES.map((s) => h('option', { value: s, selected: s === status }, s.replace('_', ' '))))),
    h('div', { class: 'field field-button' }, h('button', { type: 'button', class: 'btn', onclick: () => renderDeliveryLog(main, ctx) }, 'Refresh')));
  const result = h('div', { id: 'action-result', role: 'status', 'aria-live': 'polite' });
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading deliveries…'));
  const retentionNote = h('p', { class: 'muted small', id: 'retention-note' });
  main.replaceChildren(h('section', { class: 'page' },
    pageHeader('Delivery log'),
    h('p', { class: 'muted lead' }, `Deliveries of company ${ctx.session.company}'s events to your webhooks, newest first.`),
    retentionNote, toolbar, result, body));
  showRetention(retentionNote, ctx);

  let data;
  try {
    data = await api.deliveryDetails({ ...rangeDates(range), company_id: ctx.session.company, status, page_no: pageNo, page_size: PAGE_SIZE });
  } catch (err) {
    if (ctx.active()) body.replaceChildren(errorNotice(err, 'Could not load the deliveries'));
    return;
  }
  if (!ctx.active()) return;
  const rows = data?.rows ?? [];
  if (!rows.length) {
    body.replaceChildren(notice('info', 'No delivery in this range.'));
    return;
  }
  const table = h('table', { class: 'table responsive', id: 'delivery-table' },
    h('caption', { class: 'visually-hidden' }, 'Deliveries'),
    h('thead', {}, h('tr', {}, ['Created', 'Event', 'Webhook', 'Status', 'Code', 'Attempts', 'Response time', 'Actions']
      .map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((d) => h('tr', { 'data-id': String(d.delivery_id), 'data-event-id': d.event_id },
      h('td', { 'data-label': 'Created' }, timeEl(d.created_on)),
      h('td', { 'data-label': 'Event' }, h('code', { class: 'slug' }, d.event_name), h('div', { class: 'muted small' }, 'id ', d.event_id)),
      h('td', { 'data-label': 'Webhook' }, h('div', {}, d.name), h('div', { class: 'url muted small' }, d.webhook_url)),
      h('td', { 'data-label': 'Status' }, deliveryBadge(d.status),
        d.status !== 'succeeded' && d.response_message && d.response_message !== d.status
          ? h('div', { class: 'muted small' }, d.response_message) : null),
      h('td', { 'data-label': 'Code' }, d.response_code ? String(d.response_code) : '—'),
      h('td', { 'data-label': 'Attempts' }, String(d.attempt)),
      h('td', { 'data-label': 'Response time' }, d.attempt ? formatMs(d.response_time) : '—'),
      h('td', { 'data-label': 'Actions', class: 'row-actions' },
        h('a', { href: `#/deliveries/${d.delivery_id}`, class: 'btn btn-small', 'aria-label': `Attempts of delivery ${d.delivery_id} (${d.event_id})` }, 'Attempts'),
        d.status === 'failed' || d.status === 'filter_error'
          ? h('button', {
            type: 'button', class: 'btn btn-small', 'aria-label': `Retry delivery ${d.delivery_id}`,
            onclick: () => retry(d.delivery_id, result, async () => {
              if (ctx.active()) await renderDeliveryLog(main, ctx);
            }),
          }, 'Retry')
          : null)))));
  body.replaceChildren(h('div', { class: 'table-wrap' }, table),
    pager(data.page, (p) => ctx.navigate('/deliveries', { range, status, page: p }), 'deliveries'));
}

// showRetention says in el how far back the log goes (the deployment's retention).
async function showRetention(el, ctx) {
  let me;
  try {
    me = await api.me();
  } catch {
    return; // the log works without it
  }
  const r = me?.retention;
  if (!r || !ctx.active()) return;
  el.textContent = `Deliveries are kept ${duration(r.records_seconds)} after they end; ` +
    `event payloads and response bodies ${duration(r.payloads_seconds)}, then only their metadata (such a delivery can no longer be retried).`;
}

// duration words a number of seconds: days when whole, else hours, minutes or seconds.
function duration(s) {
  const unit = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`;
  if (s >= 86400 && s % 86400 === 0) return unit(s / 86400, 'day');
  if (s >= 3600 && s % 3600 === 0) return unit(s / 3600, 'hour');
  if (s >= 60 && s % 60 === 0) return unit(s / 60, 'minute');
  return unit(s, 'second');
}

// retry redelivers one delivery and says how it went in region.
async function retry(id, region, after) {
  region.replaceChildren(h('p', { class: 'muted' }, `Retrying delivery ${id}…`));
  try {
    const res = await api.retryDelivery(id);
    const msg = `Delivery ${id} is being retried (series ${res.series}, workflow ${res.workflow_id}).`;
    if (after) await after();
    const target = document.getElementById('action-result') ?? region;
    target.replaceChildren(notice('success', msg));
    announce(msg);
  } catch (err) {
    region.replaceChildren(errorNotice(err, `Could not retry delivery ${id}`));
  }
}

/** renderDeliveryDetail shows a delivery and its attempts; it refreshes while live. */
export async function renderDeliveryDetail(main, ctx) {
  const id = Number(ctx.params.id);
  document.title = `Delivery ${id} · Hookflow admin`;
  let d;
  try {
    d = await api.delivery(id);
  } catch (err) {
    if (ctx.active()) {
      main.replaceChildren(h('section', { class: 'page' }, pageHeader(`Delivery ${id}`),
        errorNotice(err, 'Could not load the delivery'), h('p', {}, h('a', { href: '#/deliveries' }, '← Delivery log'))));
    }
    return;
  }
  if (!ctx.active()) return;
  const reload = async () => {
    if (ctx.active()) await renderDeliveryDetail(main, ctx);
  };
  const result = h('div', { id: 'action-result', role: 'status', 'aria-live': 'polite' });
  const canRetry = FINAL.has(d.status);
  const hadFocus = main.contains(document.activeElement) ? document.activeElement.id : null;
  main.replaceChildren(h('section', { class: 'page' },
    pageHeader(`Delivery ${d.delivery_id}`,
      canRetry ? h('button', { type: 'button', class: 'btn btn-primary', id: 'retry-delivery', onclick: () => retry(id, result, reload) },
        d.status === 'failed' || d.status === 'filter_error' ? 'Retry' : 'Redeliver') : null,
      h('button', { type: 'button', class: 'btn', id: 'refresh-delivery', onclick: reload }, 'Refresh')),
    h('p', {}, h('a', { href: '#/deliveries' }, '← Delivery log')),
    result,
    h('dl', { class: 'details card' },
      item('Status', deliveryBadge(d.status)),
      item('Event', h('code', { class: 'slug' }, d.event_slug)),
      item('Event id', d.event_id),
      item('Webhook', `${d.name} (#${d.subscriber_id})`),
      item('URL', h('span', { class: 'url' }, d.webhook_url)),
      item('Company', String(d.company_id)),
      item('Created', timeEl(d.created_on)),
      item('Series', String(d.series)),
      item('Workflow', d.temporal_ui_url
        ? h('a', { href: d.temporal_ui_url, target: '_blank', rel: 'noopener noreferrer', id: 'temporal-link' },
          d.workflow_id, h('span', { class: 'visually-hidden' }, ' (opens Temporal UI in a new tab)'), ' ↗')
        : h('code', {}, d.workflow_id || '—'))),
    d.live ? liveState(d.live) : null,
    h('h2', {}, 'Attempts'),
    attemptsTable(d.attempts ?? [])));
  if (hadFocus) document.getElementById(hadFocus)?.focus();
  // While the workflow runs, follow it: the next attempt or the release from the queue.
  if (d.live) {
    setTimeout(() => {
      if (ctx.active()) reload();
    }, 3000);
  }
}

function item(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function liveState(live) {
  return h('section', { class: 'card live', 'aria-labelledby': 'live-title' },
    h('h2', { id: 'live-title' }, 'Under way'),
    h('dl', { class: 'details' },
      item('Workflow', live.workflow_status || '—'),
      item('Current attempt', String(live.current_attempt ?? '—')),
      item('Next attempt', live.next_attempt_at ? timeEl(live.next_attempt_at) : '—'),
      item('Last failure', live.last_failure || '—'),
      item('Waiting for the webhook', live.waiting_for_release ? 'yes: it is inactive or blocked; re-activate it to release the queue' : 'no')),
    h('p', { class: 'muted small' }, 'This page refreshes every 3 seconds while the delivery is under way.'));
}

function attemptsTable(attempts) {
  if (!attempts.length) return notice('info', 'No attempt yet.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive', id: 'attempts-table' },
    h('caption', { class: 'visually-hidden' }, 'Attempts'),
    h('thead', {}, h('tr', {}, ['#', 'Time', 'Code', 'Response time', 'Error', 'Response'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, attempts.map((a) => h('tr', { 'data-attempt': String(a.attempt) },
      h('td', { 'data-label': 'Attempt' }, String(a.attempt)),
      h('td', { 'data-label': 'Time' }, timeEl(a.attempted_on)),
      h('td', { 'data-label': 'Code', class: 'attempt-code' }, a.response_code ? String(a.response_code) : '—'),
      h('td', { 'data-label': 'Response time' }, formatMs(a.response_time)),
      h('td', { 'data-label': 'Error' }, a.error ? [a.error_class ? h('span', { class: 'badge tone-bad' }, a.error_class) : null, ' ', a.error] : '—'),
      h('td', { 'data-label': 'Response' }, a.response_body
        ? h('details', {}, h('summary', {}, 'Body'), h('pre', { class: 'code-block' }, a.response_body))
        : '—'))))));
}
