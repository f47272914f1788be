// The Webhooks list: one row per webhook with its events (resource and event type),
// URL and status; search, status filter and pagination on the server; a ⋮ menu per row
// with Edit, Filters & reducers, Activate/Deactivate, Test and Delete.

import { api } from './api.js';
import { h, announce, statusBadge, slugParts, pageHeader, notice, errorNotice, confirmDialog, pager, formatMs } from './ui.js';
import { actionMenu } from './menu.js';

const PAGE_SIZE = 10;

// refocus names the filter control to give the focus back to after a search re-renders
// the page (the new page's own control), so that the user can refine the search.
let refocus = null;

/** renderWebhookList renders the list for the query in the hash (search, status, page). */
export async function renderWebhookList(main, ctx) {
  document.title = 'Webhooks · Hookflow admin';
  const search = ctx.query.get('search') ?? '';
  const status = ctx.query.get('status') ?? '';
  const pageNo = Math.max(1, Number(ctx.query.get('page')) || 1);
  const go = (changes) => ctx.navigate('/webhooks', { search, status, page: pageNo > 1 ? pageNo : '', ...changes });

  const searchInput = h('input', {
    type: 'search', id: 'webhook-search', name: 'search', value: search, autocomplete: 'off',
    placeholder: 'Resource, event or URL',
  });
  const statusSelect = h('select', { id: 'webhook-status', name: 'status' },
    [['', 'All statuses'], ['active', 'Active'], ['inactive', 'Inactive'], ['blocked', 'Blocked']]
      .map(([v, l]) => h('option', { value: v, selected: v === status }, l)));
  const filters = h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter webhooks', novalidate: true },
    h('div', { class: 'field field-grow' }, h('label', { for: 'webhook-search' }, 'Search'), searchInput),
    h('div', { class: 'field' }, h('label', { for: 'webhook-status' }, 'Status'), statusSelect),
    h('div', { class: 'field field-button' }, h('button', { type: 'submit', class: 'btn' }, 'Search')));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    refocus = 'webhook-search';
    go({ search: searchInput.value.trim(), status: statusSelect.value, page: '' });
  });
  statusSelect.addEventListener('change', () => {
    refocus = 'webhook-status';
    go({ search: searchInput.value.trim(), status: statusSelect.value, page: '' });
  });

  const result = h('div', { id: 'action-result', class: 'action-result', role: 'status', 'aria-live': 'polite' });
  // Whether the company has installed the signed-in extension: without an installation
  // its webhooks receive nothing, and the API refuses to create them.
  const installations = h('div', { id: 'installations' });
  const body = h('div', { class: 'list-body' }, h('p', { class: 'muted' }, 'Loading webhooks…'));
  main.replaceChildren(h('section', { class: 'page' },
    pageHeader('Webhooks', h('a', { href: '#/webhooks/new', class: 'btn btn-primary', id: 'create-webhook' }, '+ Create Webhook')),
    h('p', { class: 'muted lead' }, `Where the events of company ${ctx.session.company} are sent. Search matches a webhook's name, URL or events.`),
    installations, filters, result, body));
  showInstallations(installations, ctx);
  if (refocus) {
    document.getElementById(refocus)?.focus();
    refocus = null;
  }

  let data;
  try {
    data = await api.listWebhooks({
      company_id: ctx.session.company, search, status, page_no: pageNo, page_size: PAGE_SIZE,
    });
  } catch (err) {
    if (ctx.active()) body.replaceChildren(errorNotice(err, 'Could not load the webhooks'));
    return;
  }
  if (!ctx.active()) return;
  const items = data?.items ?? [];
  if (search || status) {
    const n = data?.page?.item_total ?? items.length;
    announce(`${n} ${n === 1 ? 'webhook matches' : 'webhooks match'}`);
  }
  if (items.length === 0) {
    body.replaceChildren(search || status
      ? notice('info', 'No webhook matches this search. ', h('a', { href: '#/webhooks' }, 'Show all webhooks'))
      : notice('info', 'No webhooks yet. ', h('a', { href: '#/webhooks/new' }, 'Create the first one'), '.'));
    return;
  }
  // Re-rendered after an action, unless the user has gone to another page meanwhile.
  const reload = async () => {
    if (ctx.active()) await renderWebhookList(main, ctx);
  };
  const table = h('table', { class: 'table responsive', id: 'webhook-table' },
    h('caption', { class: 'visually-hidden' }, 'Webhooks'),
    h('thead', {}, h('tr', {},
      ['Name', 'Resource', 'Event', 'URL', 'Status'].map((c) => h('th', { scope: 'col' }, c)),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    h('tbody', {}, items.map((sub) => webhookRow(sub, { result, reload, navigate: ctx.navigate }))));
  body.replaceChildren(h('div', { class: 'table-wrap' }, table), pager(data.page, (p) => go({ page: p }), 'webhooks'));
}

function webhookRow(sub, { result, reload, navigate }) {
  const events = sub.events ?? [];
  const rowLabel = sub.name || sub.webhook_url;
  const toggle = sub.status === 'active'
    ? { label: 'Deactivate', action: 'deactivate', status: 'inactive' }
    : { label: 'Activate', action: 'activate', status: 'active' };
  const menu = actionMenu(`Actions for ${rowLabel}`, [
    { label: 'Edit', action: 'edit', onSelect: () => navigate(`/webhooks/${sub.id}/edit`) },
    { label: 'Filters & reducers', action: 'filters', onSelect: () => navigate(`/webhooks/${sub.id}/filters`) },
    { label: toggle.label, action: toggle.action, onSelect: () => setStatus(sub, toggle.status, result, reload) },
    { label: 'Test', action: 'test', onSelect: () => testWebhook(sub, result) },
    { label: 'Delete', action: 'delete', danger: true, onSelect: () => deleteWebhook(sub, result, reload) },
  ]);
  return h('tr', { 'data-id': String(sub.id) },
    h('td', { 'data-label': 'Name' }, h('a', { href: `#/webhooks/${sub.id}/edit`, class: 'strong' }, sub.name)),
    h('td', { 'data-label': 'Resource' }, h('ul', { class: 'cell-list' }, events.map((e) => h('li', {}, slugParts(e.slug).name)))),
    h('td', { 'data-label': 'Event' }, h('ul', { class: 'cell-list' }, events.map((e) => h('li', {},
      h('span', { class: 'event-type' }, slugParts(e.slug).type), ' ', h('code', { class: 'slug' }, e.slug))))),
    h('td', { 'data-label': 'URL', class: 'url-cell' }, h('span', { class: 'url' }, sub.webhook_url)),
    h('td', { 'data-label': 'Status', class: 'status-cell' }, statusBadge(sub.status, sub.blocked_reason)),
    h('td', { class: 'actions-cell' }, menu));
}

async function setStatus(sub, status, result, reload) {
  result.replaceChildren(h('p', { class: 'muted' }, `Setting ${sub.name} ${status}…`));
  try {
    const res = await api.setStatus(sub.id, status);
    await reload();
    showResult(notice('success', res?.message || `${sub.name} is ${status}`));
    document.querySelector(`#webhook-table tr[data-id="${sub.id}"] .menu-button`)?.focus();
  } catch (err) {
    result.replaceChildren(errorNotice(err, `Could not set ${sub.name} ${status}`));
  }
}

// showResult puts a message in the (re-rendered) result region of the list.
function showResult(node) {
  const region = document.getElementById('action-result');
  if (region) region.replaceChildren(node);
  announce(node.textContent);
}

/** testWebhook sends the ping and shows its result in the list's result region. */
async function testWebhook(sub, result) {
  result.replaceChildren(h('p', { class: 'muted' }, `Sending a test ping to ${sub.name}…`));
  try {
    const res = await api.ping(sub.id);
    result.replaceChildren(pingResult(res, sub.name));
  } catch (err) {
    result.replaceChildren(errorNotice(err, `Could not test ${sub.name}`));
  }
}

/** pingResult renders the answer of POST …/ping: SUCCESS or FAILED, code, time. */
export function pingResult(res, name) {
  const ok = res.status === 'SUCCESS';
  return h('div', { class: `notice ${ok ? 'notice-success' : 'notice-error'} ping-result`, 'data-result': res.status },
    h('strong', {}, `Test ${name ? 'of ' + name + ' ' : ''}${ok ? 'succeeded' : 'failed'}: `),
    h('span', { class: 'ping-status' }, res.status), ' · ',
    h('span', {}, 'HTTP ', h('span', { class: 'ping-code' }, res.code ? String(res.code) : 'no answer')), ' · ',
    h('span', {}, 'response time ', h('span', { class: 'ping-time' }, formatMs(res.response_time))),
    res.message ? h('p', { class: 'ping-message' }, res.message) : null);
}

async function deleteWebhook(sub, result, reload) {
  const confirmed = await confirmDialog({
    title: `Delete ${sub.name}?`,
    message: `The webhook to ${sub.webhook_url} is removed at once and stops receiving events; deliveries waiting in its queue are dropped. Its delivery history stays in the reports.`,
    confirmLabel: 'Delete webhook',
  });
  if (!confirmed) return;
  try {
    await api.deleteWebhook(sub.id);
    await reload();
    showResult(notice('success', `${sub.name} was deleted.`));
    document.querySelector('#main h1')?.focus();
  } catch (err) {
    result.replaceChildren(errorNotice(err, `Could not delete ${sub.name}`));
  }
}

// showInstallations says where the company has installed the signed-in extension, or
// that it has not, which is why creating a webhook there is refused.
async function showInstallations(box, ctx) {
  const company = ctx.session.company;
  let data;
  try {
    data = await api.installations(company);
  } catch (err) {
    if (ctx.active()) box.replaceChildren(errorNotice(err, 'Could not load the installations'));
    return;
  }
  if (!ctx.active()) return;
  const items = data?.items ?? [];
  if (items.length === 0) {
    box.replaceChildren(notice('error', `Company ${company} has not installed this extension: its webhooks receive nothing, and new ones are refused. `,
      'The company must install the extension first (the platform does this).'));
    return;
  }
  box.replaceChildren(h('ul', { class: 'muted installations' }, items.map((i) => h('li', { 'data-installation': String(i.id) },
    `Installed on company ${i.company_id} for ${i.criteria === 'ALL' ? 'every application' : 'applications ' + i.application_id.join(', ')} since ${i.created_at}`))));
}
