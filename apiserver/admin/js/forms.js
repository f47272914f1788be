// Labelled form fields, and the API's field errors shown next to the fields they name.

import { h, uid } from './ui.js';

/**
 * field wraps a control with its label, an optional hint and a slot for its error.
 * name is the API field it stands for (for errors), aliases other names of it in other
 * requests (space-separated); the control gets an id and
 * aria-describedby pointing at the hint and the error.
 */
export function field(label, control, { name, aliases, hint, required } = {}) {
  const id = control.id || uid('f');
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-error`;
  control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  if (required) control.setAttribute('aria-required', 'true');
  return h('div', { class: 'field', 'data-field': name || null, 'data-aliases': aliases || null },
    h('label', { for: id }, label, required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
    h('p', { class: 'field-error', id: errId, hidden: true }));
}

/**
 * fieldset groups related controls (radios, rows) under a legend; errors for name show
 * below it.
 */
export function fieldset(legend, content, { name, hint } = {}) {
  const errId = uid('fs-error');
  const hintId = hint ? uid('fs-hint') : null;
  return h('fieldset', { class: 'field', 'data-field': name || null, 'aria-describedby': [hintId, errId].filter(Boolean).join(' ') },
    h('legend', {}, legend),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    content,
    h('p', { class: 'field-error', id: errId, hidden: true }));
}

/** clearErrors hides every field error and the summary of a form. */
export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  const summary = form.querySelector('.error-summary');
  if (summary) summary.replaceChildren();
  if (summary) summary.hidden = true;
}

// fieldCandidates lists the names an API field error could belong to, most precise
// first: custom_headers.X-Team → custom_headers.X-Team, custom_headers;
// events[0].filters.query → events[0].filters.query, events[0].filters, events[0], events.
function fieldCandidates(name) {
  const out = [name];
  let rest = name;
  for (;;) {
    const cut = Math.max(rest.lastIndexOf('.'), rest.lastIndexOf('['));
    if (cut <= 0) break;
    rest = rest.slice(0, cut);
    out.push(rest);
  }
  return out;
}

/**
 * showErrors shows an ApiError on a form: each field error next to the field it names
 * (the most precise match of data-field), the rest and the message in the summary at the
 * top, and moves focus to the summary so that the user hears what went wrong.
 */
export function showErrors(form, err, intro = 'The webhook was not saved') {
  clearErrors(form);
  const summary = form.querySelector('.error-summary');
  const unplaced = [];
  const placed = [];
  for (const fe of err.fields ?? []) {
    const name = fe.field || '';
    let box = null;
    for (const cand of fieldCandidates(name)) {
      box = form.querySelector(`[data-field="${CSS.escape(cand)}"]`) ?? form.querySelector(`[data-aliases~="${CSS.escape(cand)}"]`);
      if (box) break;
    }
    const label = name && box?.dataset.field !== name ? `${name} ${fe.message}` : fe.message;
    if (!box) {
      unplaced.push(`${name} ${fe.message}`.trim());
      continue;
    }
    const p = box.querySelector(':scope > .field-error');
    p.textContent = p.textContent ? `${p.textContent}; ${label}` : label;
    p.hidden = false;
    const control = box.querySelector('input, select, textarea');
    if (control) control.setAttribute('aria-invalid', 'true');
    placed.push({ box, name, message: fe.message });
  }
  if (!summary) return;
  const items = [
    ...placed.map(({ box, name, message }) => {
      const control = box.querySelector('input, select, textarea, button');
      const legend = box.querySelector('label, legend')?.textContent.replace(/\s*\*$/, '') || name;
      return h('li', {}, h('a', {
        href: '#',
        onclick: (e) => {
          e.preventDefault();
          control?.focus();
        },
      }, `${legend}: ${message}`));
    }),
    ...unplaced.map((m) => h('li', {}, m)),
  ];
  // append(null) would print "null" under an error without fields (a 403, say).
  summary.append(h('h2', { class: 'summary-title' }, `${intro}: ${err.message}`), ...(items.length ? [h('ul', {}, items)] : []));
  summary.hidden = false;
  summary.focus();
}

/** errorSummary is the (initially hidden) box showErrors fills. */
export function errorSummary() {
  return h('div', { class: 'error-summary notice notice-error', role: 'alert', tabindex: '-1', hidden: true });
}
