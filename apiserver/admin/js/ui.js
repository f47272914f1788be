// Small DOM helpers shared by the pages. Text always goes in through textContent, never
// innerHTML, so data from the API cannot inject markup.

/**
 * h builds an element: h('a', {href: '#/x', class: 'btn'}, 'text', child…). Attributes
 * starting with "on" add event listeners; true adds a boolean attribute; false, null
 * and undefined leave it out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'value' && 'value' in el) {
      el.value = v;
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** svg builds an SVG element with attributes and children. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

let idCounter = 0;
/** uid returns a page-unique id with the given prefix. */
export function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** announce says msg to screen readers through the polite live region. */
export function announce(msg) {
  const region = document.getElementById('announcer');
  region.textContent = '';
  // A fresh text node after a tick is announced even when it repeats the last one.
  setTimeout(() => {
    region.textContent = msg;
  }, 50);
}

const STATUS_LABELS = { active: 'Active', inactive: 'Inactive', blocked: 'Blocked' };

/** statusBadge shows a webhook status with a coloured dot and its name in words. */
export function statusBadge(status, reason) {
  const label = STATUS_LABELS[status] ?? status;
  return h('span', { class: `badge badge-${status}`, title: reason || null, 'data-status': status },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), label);
}

const DELIVERY_TONES = {
  succeeded: 'ok', failed: 'bad', filter_error: 'bad', retrying: 'warn', pending: 'info',
  queued: 'info', filtered: 'muted', discarded: 'muted',
};

/** deliveryBadge shows a delivery status, in words and colour. */
export function deliveryBadge(status) {
  const tone = DELIVERY_TONES[status] ?? 'muted';
  return h('span', { class: `badge tone-${tone}`, 'data-status': status },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), status.replace('_', ' '));
}

/** slugParts splits category/name/type/vN into its parts. */
export function slugParts(slug) {
  const [category = '', name = '', type = '', version = ''] = String(slug).split('/');
  return { category, name, type, version };
}

/** pageHeader renders a page's title (focused on navigation) and its actions. */
export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' },
    h('h1', { tabindex: '-1', class: 'page-title' }, title),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

/** notice renders a message block; kind is info, success or error. */
export function notice(kind, ...content) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, content);
}

/** errorNotice renders an API or other error. */
export function errorNotice(err, what) {
  const msg = err?.message || String(err);
  return notice('error', what ? `${what}: ${msg}` : msg);
}

/**
 * confirmDialog asks a yes/no question in the modal dialog and resolves to true when
 * confirmed. The dialog traps focus while open and returns it where it was.
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = true }) {
  const dialog = document.getElementById('confirm-dialog');
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-message').textContent = message;
  ok.textContent = confirmLabel;
  ok.className = danger ? 'btn btn-danger' : 'btn btn-primary';
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const finish = (value) => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected) opener.focus();
      resolve(value);
    };
    const onOk = () => finish(true);
    const onCancel = () => finish(false);
    const onClose = () => finish(false); // Escape
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    cancel.focus();
  });
}

/** formatMs shows a duration in milliseconds. */
export function formatMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return '—';
  const n = Number(ms);
  if (n >= 1000) return `${(n / 1000).toFixed(2)} s`;
  return `${n.toFixed(n < 10 ? 2 : 0)} ms`;
}

/** formatTime shows an ISO time in the user's locale, to the second. */
export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

/** timeEl renders an ISO time in a <time> element. */
export function timeEl(iso) {
  return h('time', { datetime: iso || null }, formatTime(iso));
}

/** copyButton copies the text of getText() to the clipboard and says so. */
export function copyButton(getText, label = 'Copy') {
  const btn = h('button', { type: 'button', class: 'btn btn-small' }, label);
  btn.addEventListener('click', async () => {
    const text = getText();
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      // Not a secure context, or no permission: fall back to a selection copy.
      const area = h('textarea', { class: 'visually-hidden', readonly: true });
      area.value = text;
      document.body.append(area);
      area.select();
      try {
        copied = document.execCommand('copy');
      } catch {
        copied = false;
      }
      area.remove();
    }
    btn.textContent = copied ? 'Copied' : 'Copy failed: select the text';
    announce(copied ? 'Copied to the clipboard' : 'Could not copy: select the text and copy it');
    setTimeout(() => {
      btn.textContent = label;
    }, 2500);
  });
  return btn;
}

/** pager renders Previous/Next buttons for a page block {current, size, item_total, has_next}. */
export function pager(page, onPage, noun) {
  const current = page?.current ?? 1;
  const total = page?.item_total ?? 0;
  const size = page?.size ?? 0;
  const first = total === 0 ? 0 : (current - 1) * size + 1;
  const last = Math.min(current * size, total);
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('button', { type: 'button', class: 'btn', disabled: current <= 1, onclick: () => onPage(current - 1) },
      h('span', { 'aria-hidden': 'true' }, '← '), 'Previous'),
    h('span', { class: 'pager-info' }, total === 0 ? `No ${noun}` : `${first}–${last} of ${total} ${noun}`),
    h('button', { type: 'button', class: 'btn', disabled: !page?.has_next, onclick: () => onPage(current + 1) },
      'Next', h('span', { 'aria-hidden': 'true' }, ' →')));
}

/**
 * The time ranges the reports offer; end is now (plus a minute, so that what just
 * happened is in), start is end minus the range.
 */
export const RANGES = [
  { value: '1h', label: 'Last hour', ms: 3600e3 },
  { value: '24h', label: 'Last 24 hours', ms: 24 * 3600e3 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 24 * 3600e3 },
  { value: '30d', label: 'Last 30 days', ms: 30 * 24 * 3600e3 },
];

/** rangeDates returns {start_date, end_date} in RFC 3339 for a RANGES value. */
export function rangeDates(value) {
  const r = RANGES.find((x) => x.value === value) ?? RANGES[1];
  const end = new Date(Date.now() + 60e3);
  const start = new Date(end.getTime() - r.ms);
  const fmt = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { start_date: fmt(start), end_date: fmt(end) };
}

/** rangeSelect renders the labelled range picker. */
export function rangeSelect(value, onChange) {
  const id = uid('range');
  const select = h('select', { id, onchange: (e) => onChange(e.target.value) },
    RANGES.map((r) => h('option', { value: r.value, selected: r.value === value }, r.label)));
  return h('div', { class: 'field field-inline' }, h('label', { for: id }, 'Time range'), select);
}
