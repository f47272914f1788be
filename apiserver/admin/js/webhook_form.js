// The Create/Edit webhook form: name, destination URL, events picked from the catalogue
// (resource, then event), status, authentication (signing secret, custom headers),
// inactive policy, alert e-mail, timeout and delivery pace (rate limit, burst, max in flight,
// with the effective rate the receiver's push-back left); Test sends the ping. The API's field errors
// show next to their fields.

import { api, catalogue, ApiError } from './api.js';
import { h, uid, announce, slugParts, pageHeader, notice, errorNotice, copyButton, statusBadge } from './ui.js';
import { field, fieldset, errorSummary, showErrors, clearErrors } from './forms.js';
import { pingResult } from './webhooks.js';
import { headerRows } from './headers.js';

/** renderWebhookForm renders the form: new when ctx.params.id is absent. */
export async function renderWebhookForm(main, ctx) {
  const id = ctx.params.id ? Number(ctx.params.id) : null;
  const isNew = id === null;
  document.title = `${isNew ? 'Create webhook' : 'Edit webhook'} · Hookflow admin`;
  main.replaceChildren(h('section', { class: 'page' }, pageHeader(isNew ? 'Create Webhook' : 'Edit Webhook'), h('p', { class: 'muted' }, 'Loading…')));

  let events;
  let sub = null;
  try {
    [events, sub] = await Promise.all([catalogue(), isNew ? null : api.getWebhook(id)]);
  } catch (err) {
    if (ctx.active()) {
      main.replaceChildren(h('section', { class: 'page' }, pageHeader(isNew ? 'Create Webhook' : 'Edit Webhook'),
        errorNotice(err, isNew ? 'Could not load the event catalogue' : `Could not load webhook ${id}`),
        h('p', {}, h('a', { href: '#/webhooks' }, '← Back to the webhooks'))));
    }
    return;
  }
  if (!ctx.active()) return;

  const name = h('input', { type: 'text', name: 'name', maxlength: '255', value: sub?.name ?? '', autocomplete: 'off' });
  const url = h('input', { type: 'url', name: 'webhook_url', value: sub?.webhook_url ?? '', placeholder: 'https://example.com/webhooks', autocomplete: 'off', spellcheck: 'false' });
  const picker = eventPicker(events, (sub?.events ?? []).map((e) => e.slug));
  const statusValue = sub?.status ?? 'active';
  const statusRadios = radios('status', [
    ['active', 'Active', 'Events are delivered as they happen.'],
    ['inactive', 'Inactive', 'Paused: events are queued or discarded, per the inactive policy.'],
  ], statusValue === 'blocked' ? null : statusValue);
  const policyRadios = radios('inactive_policy', [
    ['queue', 'Queue', 'Keep the events while inactive or blocked, and deliver them in order on re-activation.'],
    ['discard', 'Discard', 'Drop the events that happen while the webhook is inactive.'],
  ], sub?.inactive_policy ?? 'queue');
  const secret = h('input', { type: 'text', name: 'secret', autocomplete: 'off', spellcheck: 'false', placeholder: isNew ? 'Leave empty to generate one' : sub.auth_meta?.secret || '' });
  const headers = headerRows(sub?.custom_headers ?? {});
  const email = h('input', { type: 'email', name: 'email_id', value: sub?.email_id ?? '', autocomplete: 'off', placeholder: 'ops@example.com' });
  const timeout = h('input', { type: 'number', name: 'timeout_ms', min: '1000', max: '30000', step: '100', value: String(sub?.timeout_ms ?? 5000), inputmode: 'numeric' });
  const rate = h('input', { type: 'number', name: 'rate_limit', min: '0.001', max: '10000', step: 'any', value: sub?.rate_limit != null ? String(sub.rate_limit) : '', inputmode: 'decimal', placeholder: 'No limit' });
  const burst = h('input', { type: 'number', name: 'rate_limit_burst', min: '1', max: '10000', step: '1', value: sub?.rate_limit != null ? String(sub.rate_limit_burst ?? 1) : '', inputmode: 'numeric', placeholder: '1' });
  const inFlight = h('input', { type: 'number', name: 'max_in_flight', min: '1', max: '1000', step: '1', value: sub?.max_in_flight != null ? String(sub.max_in_flight) : '', inputmode: 'numeric', placeholder: 'No cap' });
  const effective = sub?.effective_rate_limit;
  const pushedBack = effective != null && (sub.rate_limit == null || effective < sub.rate_limit);
  const testResult = h('div', { class: 'test-result', id: 'test-result', role: 'status', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'save-webhook' }, isNew ? 'Create webhook' : 'Save changes');
  const test = h('button', { type: 'button', class: 'btn', id: 'test-webhook' }, 'Test');

  const form = h('form', { class: 'card form webhook-form', novalidate: true, id: 'webhook-form' },
    errorSummary(),
    h('div', { class: 'grid-2' },
      field('Name', name, { name: 'name', required: true, hint: 'Shown in this list and in alerts.' }),
      field('Destination URL', url, { name: 'webhook_url', required: true, hint: 'Where each event is POSTed, as JSON. Use HTTPS.' })),
    picker.element,
    sub?.status === 'blocked'
      ? notice('error', statusBadge('blocked'), ` Blocked by the system${sub.blocked_reason ? ': ' + sub.blocked_reason : ''}. Choose Active to release its queued events.`)
      : null,
    fieldset('Status', statusRadios, { name: 'status' }),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Authentication'),
      field(isNew ? 'Signing secret' : 'New signing secret', secret, {
        name: 'auth_meta.secret',
        hint: isNew
          ? 'Each request is signed with it (x-fp-signature, webhook-signature). Leave empty and one is generated and shown once.'
          : `The current secret is ${sub.auth_meta?.secret || 'set'} (masked). Type a new one to rotate it: the previous one keeps signing beside it for 24 hours.`,
      }),
      fieldset('Custom headers', headers.element, { name: 'custom_headers', hint: 'Sent with every request, for example an API key your endpoint checks.' })),
    fieldset('When inactive', policyRadios, { name: 'inactive_policy' }),
    h('div', { class: 'grid-2' },
      field('Alert e-mail', email, { name: 'email_id', hint: 'Told when the webhook is blocked after failing deliveries.' }),
      field('Timeout (ms)', timeout, { name: 'timeout_ms', hint: 'How long to wait for an answer: 1000 to 30000 ms.' })),
    h('fieldset', { class: 'group', id: 'flow-limits' }, h('legend', {}, 'Delivery pace'),
      h('div', { class: 'grid-2' },
        field('Rate limit (per second)', rate, { name: 'rate_limit', hint: 'At most this many deliveries per second, fractions allowed (0.5: one every 2 s). Empty: no limit.' }),
        field('Burst', burst, { name: 'rate_limit_burst', hint: 'How many may go at once after a quiet spell (default 1).' }),
        field('Max in flight', inFlight, { name: 'max_in_flight', hint: 'At most this many requests at once. Empty: no cap.' })),
      isNew ? null : h('p', { class: pushedBack ? 'notice notice-info' : 'muted', id: 'effective-rate' },
        effective == null
          ? 'Effective rate: unlimited.'
          : `Effective rate: ${effective}/s${pushedBack ? ' — lowered because the receiver answered 429 or 503; it recovers by itself' : ''}.`,
        sub?.paused_until ? ` Paused until ${new Date(sub.paused_until).toLocaleTimeString()} (the receiver's Retry-After).` : null)),
    h('div', { class: 'actions' }, save, test, h('a', { href: '#/webhooks', class: 'btn btn-ghost' }, 'Cancel')),
    testResult);

  const created = ctx.handoff?.created;
  const createdPanel = created ? secretPanel(created) : null;
  main.replaceChildren(h('section', { class: 'page' },
    pageHeader(isNew ? 'Create Webhook' : `Edit ${sub.name}`),
    h('p', {}, h('a', { href: '#/webhooks' }, '← All webhooks'),
      isNew ? null : [' · ', h('a', { href: `#/webhooks/${id}/filters` }, 'Filters & reducers')]),
    createdPanel, form));
  if (createdPanel) createdPanel.focus();

  test.addEventListener('click', async () => {
    if (isNew) {
      testResult.replaceChildren(notice('info', 'Save the webhook first: the test ping goes to a saved webhook, signed with its secret.'));
      return;
    }
    test.disabled = true;
    testResult.replaceChildren(h('p', { class: 'muted' }, 'Sending a test ping…'));
    try {
      testResult.replaceChildren(pingResult(await api.ping(id)));
    } catch (err) {
      testResult.replaceChildren(errorNotice(err, 'The test could not run'));
    } finally {
      test.disabled = false;
    }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const body = {
      name: name.value.trim(),
      webhook_url: url.value.trim(),
      inactive_policy: checked(policyRadios),
      email_id: email.value.trim(),
      custom_headers: headers.value(),
      events: picker.slugs().map((slug) => ({ slug })),
    };
    // The status goes only when it changes: setting active also releases the queue.
    const st = checked(statusRadios);
    if (st && (isNew || st !== sub.status)) body.status = st;
    if (timeout.value.trim() !== '') body.timeout_ms = Number(timeout.value);
    // An empty limit removes it; what is typed goes as it is, and the API names the field it refuses.
    const number = (input) => (input.value.trim() === '' ? null : Number(input.value));
    body.rate_limit = number(rate);
    body.rate_limit_burst = body.rate_limit === null ? null : number(burst);
    body.max_in_flight = number(inFlight);
    if (secret.value !== '') body.auth_meta = { type: 'hmac', secret: secret.value };
    const dupes = headers.duplicates();
    if (dupes.length) {
      showErrors(form, new ApiError(0, 'check the custom headers', dupes.map((n) => ({ field: 'custom_headers', message: `${n} is listed twice` }))));
      return;
    }
    save.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      if (isNew) {
        const res = await api.createWebhook(body);
        ctx.handOff({ created: res });
        announce(`Webhook ${res.name} created`);
        ctx.navigate(`/webhooks/${res.id}/edit`);
        return;
      }
      const res = await api.updateWebhook(id, body);
      sub.status = res.status;
      secret.value = '';
      testResult.replaceChildren(notice('success', `Saved ${res.name}.`));
      announce(`Saved ${res.name}`);
    } catch (err) {
      if (err instanceof ApiError) showErrors(form, err);
      else showErrors(form, new ApiError(0, String(err)));
    } finally {
      save.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
}

// secretPanel shows the signing secret of a webhook just created, once, with Copy.
function secretPanel(sub) {
  const value = sub.auth_meta?.secret ?? '';
  return h('div', { class: 'notice notice-success secret-panel', role: 'status', tabindex: '-1', id: 'secret-panel' },
    h('h2', {}, `Webhook ${sub.name} created`),
    h('p', {}, 'Its signing secret is shown only now. Copy it to your endpoint, which checks the signatures with it.'),
    h('div', { class: 'secret-row' },
      h('code', { class: 'secret', id: 'created-secret' }, value),
      copyButton(() => value, 'Copy secret')));
}

// radios renders a radio group; value is the one checked (none when null).
function radios(name, options, value) {
  const group = h('div', { class: 'radios' }, options.map(([v, label, hint]) => {
    const id = uid(`${name}-${v}`);
    return h('div', { class: 'radio' },
      h('input', { type: 'radio', name, id, value: v, checked: v === value, 'aria-describedby': `${id}-hint` }),
      h('label', { for: id }, label),
      h('p', { class: 'hint', id: `${id}-hint` }, hint));
  }));
  return group;
}

function checked(group) {
  return group.querySelector('input:checked')?.value ?? null;
}

// eventPicker lets the user pick events: a resource, then one of its event types, then
// Add. A pick left in the selects when saving with no event added counts as added.
function eventPicker(events, initial) {
  const bySlug = new Map(events.map((e) => [e.slug, e]));
  const resources = [...new Set(events.map((e) => e.event_name))].sort();
  const chosen = [...initial];
  const resource = h('select', { id: 'event-resource', name: 'resource' },
    resources.map((r) => h('option', { value: r }, r)));
  const type = h('select', { id: 'event-type', name: 'event' });
  const fillTypes = () => {
    type.replaceChildren(...events.filter((e) => e.event_name === resource.value)
      .sort((a, b) => a.slug.localeCompare(b.slug))
      .map((e) => h('option', { value: e.slug }, `${e.event_type} — ${e.display_name || e.slug} (${e.slug})`)));
  };
  resource.addEventListener('change', fillTypes);
  fillTypes();
  const list = h('ul', { class: 'chosen-events', id: 'chosen-events', 'aria-label': 'Subscribed events' });
  const add = h('button', { type: 'button', class: 'btn', id: 'add-event' }, 'Add event');
  const renderList = () => {
    list.replaceChildren(...chosen.map((slug, i) => {
      const p = slugParts(slug);
      const e = bySlug.get(slug);
      return h('li', { 'data-field': `events[${i}]`, 'data-slug': slug },
        h('span', { class: 'event-chip' }, h('strong', {}, p.name), ' · ', p.type, ' ', h('code', { class: 'slug' }, slug),
          e ? null : h('span', { class: 'muted' }, ' (not in the catalogue)')),
        h('button', {
          type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Remove ${slug}`,
          onclick: () => {
            chosen.splice(i, 1);
            renderList();
            announce(`Removed ${slug}`);
            add.focus();
          },
        }, 'Remove'),
        h('p', { class: 'field-error', hidden: true }));
    }));
    if (!chosen.length) list.append(h('li', { class: 'muted empty' }, 'No event yet: pick a resource and an event, then Add event.'));
  };
  add.addEventListener('click', () => {
    if (type.value && !chosen.includes(type.value)) {
      chosen.push(type.value);
      renderList();
      announce(`Added ${type.value}`);
    }
  });
  renderList();
  const element = fieldset('Events', [
    h('div', { class: 'picker' },
      h('div', { class: 'field' }, h('label', { for: 'event-resource' }, 'Resource'), resource),
      h('div', { class: 'field field-grow' }, h('label', { for: 'event-type' }, 'Event'), type),
      h('div', { class: 'field field-button' }, add)),
    list,
  ], { name: 'events', hint: 'The events this webhook receives. Pick a resource (what changed), then the event (what happened to it).' });
  return {
    element,
    slugs() {
      if (chosen.length === 0 && type.value) {
        chosen.push(type.value);
        renderList();
      }
      return [...chosen];
    },
  };
}
