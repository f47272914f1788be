// The sign-in page: an API key (checked with GET /me), the organization and extension to
// act as when the key does not name them (the admin token names neither), and the
// company whose webhooks to manage.

import { api, ApiError, saveSession, resetCatalogue } from './api.js';
import { h, pageHeader, notice } from './ui.js';
import { field, errorSummary, showErrors, clearErrors } from './forms.js';

/** renderSignIn renders the sign-in form into main; onDone runs once signed in. */
export function renderSignIn(main, { reason, onDone } = {}) {
  document.title = 'Sign in · Hookflow admin';
  const key = h('input', { type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', required: true });
  const org = h('input', { type: 'text', name: 'organization_id', autocomplete: 'off', spellcheck: 'false' });
  const ext = h('input', { type: 'text', name: 'extension_id', autocomplete: 'off', spellcheck: 'false' });
  const company = h('input', { type: 'number', name: 'company_id', min: '1', step: '1', value: '1', inputmode: 'numeric', required: true });
  const show = h('input', { type: 'checkbox', id: 'show-key' });
  show.addEventListener('change', () => {
    key.type = show.checked ? 'text' : 'password';
  });
  const tenantFields = h('div', { class: 'tenant-fields', hidden: true },
    notice('info', 'This key is not tied to one organization and extension: say which one to act as.'),
    field('Organization id', org, { name: 'organization_id', required: true }),
    field('Extension id', ext, { name: 'extension_id', required: true }));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  let me = null; // the answer of GET /me for the key typed

  const form = h('form', { class: 'card form signin', novalidate: true, 'aria-labelledby': 'signin-title' },
    errorSummary(),
    field('API key', key, {
      name: 'key', required: true,
      hint: 'A partner API key (hfk_…) or the admin token. It stays in this browser tab only, and is forgotten when the tab closes.',
    }),
    h('div', { class: 'check' }, show, h('label', { for: 'show-key' }, 'Show the key')),
    tenantFields,
    field('Company id', company, { name: 'company_id', required: true, hint: 'The company whose webhooks you manage. You can change it later.' }),
    h('div', { class: 'actions' }, submit));

  key.addEventListener('input', () => {
    me = null;
    tenantFields.hidden = true;
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const k = key.value.trim();
    const companyID = Number(company.value);
    const local = [];
    if (!k) local.push({ field: 'key', message: 'is required' });
    if (!Number.isInteger(companyID) || companyID < 1) local.push({ field: 'company_id', message: 'must be a positive whole number' });
    if (local.length) {
      showErrors(form, new ApiError(0, 'check the fields below', local), 'Could not sign in');
      return;
    }
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      if (!me) me = await api.me(k);
      if (me.scope === 'ingest') {
        throw new ApiError(403, 'this key may only send events; the dashboard needs a partner key', [{ field: 'key', message: 'has scope ingest, not partner' }]);
      }
      const needOrg = me.admin || !me.organization_id;
      const needExt = me.admin || !me.extension_id;
      if ((needOrg || needExt) && tenantFields.hidden) {
        tenantFields.hidden = false;
        org.value = me.organization_id || org.value;
        org.readOnly = !needOrg;
        ext.readOnly = !needExt;
        (needOrg ? org : ext).focus();
        return;
      }
      const session = {
        key: k,
        admin: !!me.admin,
        scope: me.scope,
        org: needOrg ? org.value.trim() : me.organization_id,
        ext: needExt ? ext.value.trim() : me.extension_id,
        company: companyID,
      };
      const missing = [];
      if (!session.org) missing.push({ field: 'organization_id', message: 'is required' });
      if (!session.ext) missing.push({ field: 'extension_id', message: 'is required' });
      if (missing.length) throw new ApiError(0, 'say which organization and extension to act as', missing);
      saveSession(session);
      resetCatalogue();
      onDone?.(session);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        showErrors(form, new ApiError(401, err.message, [{ field: 'key', message: 'was refused: it is unknown or revoked' }]), 'Could not sign in');
      } else {
        showErrors(form, err instanceof ApiError ? err : new ApiError(0, String(err)), 'Could not sign in');
      }
    } finally {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });

  main.replaceChildren(
    h('section', { class: 'page page-narrow' },
      pageHeader('Sign in to Webhooks'),
      reason ? notice('info', reason) : null,
      h('p', { id: 'signin-title', class: 'muted' }, 'Manage the webhooks of your extension: where events go, their filters, their deliveries and their health.'),
      form));
  key.focus();
}
