// Custom headers as editable key/value rows.

import { h, uid, announce } from './ui.js';

/**
 * headerRows renders rows for the headers object; value() returns the object the rows
 * hold now (rows with an empty name are left out), duplicates() the names listed twice.
 */
export function headerRows(initial) {
  const rows = h('div', { class: 'header-rows', id: 'header-rows' });
  const addRow = (key = '', value = '') => {
    const keyId = uid('hk');
    const valId = uid('hv');
    const keyInput = h('input', { type: 'text', id: keyId, class: 'header-name', value: key, autocomplete: 'off', spellcheck: 'false', placeholder: 'X-Api-Key' });
    const valInput = h('input', { type: 'text', id: valId, class: 'header-value', value, autocomplete: 'off', spellcheck: 'false' });
    const row = h('div', { class: 'header-row', 'data-field': key ? `custom_headers.${key}` : null },
      h('div', { class: 'field' }, h('label', { for: keyId }, 'Header name'), keyInput),
      h('div', { class: 'field field-grow' }, h('label', { for: valId }, 'Value'), valInput),
      h('div', { class: 'field field-button' }, h('button', {
        type: 'button', class: 'btn btn-ghost btn-small',
        onclick: () => {
          row.remove();
          announce('Header removed');
          addBtn.focus();
        },
      }, 'Remove', h('span', { class: 'visually-hidden' }, ` header ${key}`))),
      h('p', { class: 'field-error', hidden: true }));
    // Field errors name the header (custom_headers.X-Team): keep the row findable by it.
    keyInput.addEventListener('input', () => {
      const k = keyInput.value.trim();
      if (k) row.dataset.field = `custom_headers.${k}`;
      else delete row.dataset.field;
    });
    rows.append(row);
    return keyInput;
  };
  const addBtn = h('button', { type: 'button', class: 'btn btn-small', id: 'add-header' }, '+ Add header');
  addBtn.addEventListener('click', () => addRow().focus());
  for (const [k, v] of Object.entries(initial)) addRow(k, v);

  const entries = () => [...rows.querySelectorAll('.header-row')]
    .map((r) => [r.querySelector('.header-name').value.trim(), r.querySelector('.header-value').value])
    .filter(([k]) => k !== '');
  return {
    element: h('div', {}, rows, addBtn),
    value: () => Object.fromEntries(entries()),
    duplicates() {
      const seen = new Map();
      for (const [k] of entries()) seen.set(k.toLowerCase(), (seen.get(k.toLowerCase()) ?? 0) + 1);
      return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
    },
  };
}
