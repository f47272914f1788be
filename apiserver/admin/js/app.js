// The admin dashboard's shell: sign-in state, the header, and a hash router that renders
// one page at a time into <main> and moves focus to its title.

import { loadSession, saveSession, clearSession, onUnauthorized } from './api.js';
import { h } from './ui.js';
import { renderSignIn } from './signin.js';
import { renderWebhookList } from './webhooks.js';
import { renderWebhookForm } from './webhook_form.js';
import { renderFilterEditor } from './filters.js';
import { renderDeliveryLog, renderDeliveryDetail } from './deliveries.js';
import { renderHealth } from './health.js';

const main = document.getElementById('main');

// routes maps a hash path to a page; :name parts become params.
const routes = [
  { path: '/webhooks', nav: 'webhooks', render: renderWebhookList },
  { path: '/webhooks/new', nav: 'webhooks', render: renderWebhookForm },
  { path: '/webhooks/:id/edit', nav: 'webhooks', render: renderWebhookForm },
  { path: '/webhooks/:id/filters', nav: 'webhooks', render: renderFilterEditor },
  { path: '/deliveries', nav: 'deliveries', render: renderDeliveryLog },
  { path: '/deliveries/:id', nav: 'deliveries', render: renderDeliveryDetail },
  { path: '/health', nav: 'health', render: renderHealth },
];

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const r of routes) {
    const want = r.path.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < want.length; i++) {
      if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (want[i] !== parts[i]) ok = false;
    }
    if (ok) return { route: r, params };
  }
  return null;
}

/** navigate changes the page; query is an object of hash query parameters. */
export function navigate(path, query) {
  const qs = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '' && v != null)).toString() : '';
  const hash = '#' + path + (qs ? '?' + qs : '');
  if (location.hash === hash) render();
  else location.hash = hash;
}

// Each render gets a token; a page's late answers and timers check it and stop once
// another page is showing.
let current = 0;
// state carried from one page to the next (the secret shown once after creation).
let handoff = null;

/** handOff passes a value to the next page rendered (and only to it). */
export function handOff(value) {
  handoff = value;
}

function renderHeader(session) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  nav.hidden = !session;
  who.hidden = !session;
  if (!session) return;
  const identity = document.getElementById('identity');
  const companyInput = h('input', { id: 'company-switch', type: 'number', min: '1', step: '1', inputmode: 'numeric', value: String(session.company) });
  const form = h('form', { class: 'company-form', novalidate: true },
    h('label', { for: 'company-switch' }, 'Company'), companyInput,
    h('button', { type: 'submit', class: 'btn btn-small' }, 'Switch'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = Number(companyInput.value);
    if (!Number.isInteger(n) || n < 1) {
      companyInput.setAttribute('aria-invalid', 'true');
      companyInput.focus();
      return;
    }
    companyInput.removeAttribute('aria-invalid');
    saveSession({ ...loadSession(), company: n });
    navigate('/webhooks');
  });
  identity.replaceChildren(...[
    h('span', { class: 'id-item' }, h('span', { class: 'muted' }, 'Organization '), h('strong', { 'data-testid': 'org' }, session.org)),
    h('span', { class: 'id-item' }, h('span', { class: 'muted' }, 'Extension '), h('strong', { 'data-testid': 'ext' }, session.ext)),
    session.admin ? h('span', { class: 'id-item badge tone-warn' }, 'admin token') : null,
    form,
  ].filter(Boolean));
}

function highlightNav(name) {
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function render() {
  const token = ++current;
  const session = loadSession();
  renderHeader(session);
  if (!session) {
    highlightNav(null);
    renderSignIn(main, {
      reason: signOutReason,
      onDone: () => {
        signOutReason = null;
        if (!location.hash || location.hash === '#/' || location.hash === '#') navigate('/webhooks');
        else render();
      },
    });
    return;
  }
  const [path, qs] = (location.hash.slice(1) || '/webhooks').split('?');
  const m = match(path);
  if (!m) {
    navigate('/webhooks');
    return;
  }
  highlightNav(m.route.nav);
  const ctx = {
    params: m.params,
    query: new URLSearchParams(qs || ''),
    session,
    navigate,
    handoff,
    handOff,
    active: () => token === current,
  };
  handoff = null;
  main.setAttribute('aria-busy', 'true');
  try {
    await m.route.render(main, ctx);
  } catch (err) {
    if (token === current) {
      main.replaceChildren(h('div', { class: 'notice notice-error', role: 'alert' }, 'This page failed: ' + (err?.message || err)));
    }
  } finally {
    if (token === current) {
      main.removeAttribute('aria-busy');
      // Focus the new page's title, so that keyboard and screen reader users start there.
      const title = main.querySelector('h1');
      if (title && !main.contains(document.activeElement)) title.focus({ preventScroll: false });
    }
  }
}

let signOutReason = null;

function signOut(reason) {
  clearSession();
  signOutReason = reason || null;
  if (location.hash && location.hash !== '#/webhooks') location.hash = '#/webhooks';
  else render();
}

document.getElementById('sign-out').addEventListener('click', () => signOut('You are signed out.'));
onUnauthorized(() => signOut('The API refused the key (revoked?): sign in again.'));
window.addEventListener('hashchange', render);
render();
