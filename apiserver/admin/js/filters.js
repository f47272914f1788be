// The filter and reducer editor of one subscribed event: edit the JSON, run it on the
// event's sample payload (or pasted data) through the validate endpoints, which run the
// code delivery runs, and save it with PUT …/filter_reducer.

import { api, catalogue, ApiError } from './api.js';
import { h, announce, pageHeader, notice, errorNotice } from './ui.js';
import { field, errorSummary, showErrors, clearErrors } from './forms.js';

const pretty = (v) => JSON.stringify(v, null, 2);

// isEmptyConfig reports whether a stored configuration means "none".
const isEmptyConfig = (v) => v === null || v === undefined || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);

/** renderFilterEditor renders the editor of webhook ctx.params.id, event ?event=. */
export async function renderFilterEditor(main, ctx) {
  const id = Number(ctx.params.id);
  document.title = 'Filters & reducers · Hookflow admin';
  main.replaceChildren(h('section', { class: 'page' }, pageHeader('Filters & reducers'), h('p', { class: 'muted' }, 'Loading…')));
  let sub;
  let events;
  try {
    [sub, events] = await Promise.all([api.getWebhook(id), catalogue()]);
  } catch (err) {
    if (ctx.active()) {
      main.replaceChildren(h('section', { class: 'page' }, pageHeader('Filters & reducers'),
        errorNotice(err, `Could not load webhook ${id}`), h('p', {}, h('a', { href: '#/webhooks' }, '← Back to the webhooks'))));
    }
    return;
  }
  if (!ctx.active()) return;
  const subscribed = sub.events ?? [];
  const slug = subscribed.some((e) => e.slug === ctx.query.get('event')) ? ctx.query.get('event') : subscribed[0]?.slug;
  const se = subscribed.find((e) => e.slug === slug);
  const entry = events.find((e) => e.slug === slug);
  const sample = entry?.sample_payload ?? {};

  const eventSelect = h('select', { id: 'fr-event' },
    subscribed.map((e) => h('option', { value: e.slug, selected: e.slug === slug }, e.slug)));
  eventSelect.addEventListener('change', () => ctx.navigate(`/webhooks/${id}/filters`, { event: eventSelect.value }));

  const filterArea = h('textarea', { id: 'filter-json', rows: '8', spellcheck: 'false', class: 'code', autocomplete: 'off' });
  filterArea.value = isEmptyConfig(se?.filters) ? '' : pretty(se.filters);
  const reducerArea = h('textarea', { id: 'reducer-json', rows: '8', spellcheck: 'false', class: 'code', autocomplete: 'off' });
  reducerArea.value = isEmptyConfig(se?.reducer) ? '' : pretty(se.reducer);
  const sampleArea = h('textarea', { id: 'sample-json', rows: '12', spellcheck: 'false', class: 'code', autocomplete: 'off' });
  sampleArea.value = pretty(sample);

  const filterResult = h('div', { id: 'filter-result', class: 'result', role: 'status', 'aria-live': 'polite' });
  const reducerResult = h('div', { id: 'reducer-result', class: 'result', role: 'status', 'aria-live': 'polite' });
  const saveResult = h('div', { id: 'save-result', class: 'result', role: 'status', 'aria-live': 'polite' });

  const form = h('form', { class: 'card form', novalidate: true, id: 'filter-form' }, errorSummary());

  // parse reads a textarea as JSON; an empty one is null. A syntax error shows at the field.
  const parse = (area, fieldName, { required } = {}) => {
    const text = area.value.trim();
    if (text === '') {
      if (required) throw new ApiError(0, 'the JSON is not valid', [{ field: fieldName, message: 'is empty' }]);
      return null;
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ApiError(0, 'the JSON is not valid', [{ field: fieldName, message: `is not valid JSON: ${err.message}` }]);
    }
  };
  const fail = (err, intro) => showErrors(form, err instanceof ApiError ? err : new ApiError(0, String(err)), intro);

  const validateFilter = async () => {
    clearErrors(form);
    filterResult.replaceChildren(h('p', { class: 'muted' }, 'Running the filter…'));
    try {
      const filters = parse(filterArea, 'filters', { required: true });
      const data = parse(sampleArea, 'sample_data', { required: true });
      const res = await api.validateFilter(data, filters);
      filterResult.replaceChildren(res.success
        ? notice(res.filter_result ? 'success' : 'info', h('strong', {}, res.filter_result ? 'Matches. ' : 'Does not match. '), res.message)
        : notice('error', h('strong', {}, 'Error. '), res.message));
    } catch (err) {
      filterResult.replaceChildren();
      fail(err, 'The filter could not run');
    }
  };
  const validateReducer = async () => {
    clearErrors(form);
    reducerResult.replaceChildren(h('p', { class: 'muted' }, 'Running the reducer…'));
    try {
      const reducer = parse(reducerArea, 'reducer', { required: true });
      const data = parse(sampleArea, 'sample_data', { required: true });
      const res = await api.validateReducer(data, reducer);
      reducerResult.replaceChildren(res.success
        ? notice('success', h('p', {}, h('strong', {}, 'Reduced payload. '), res.message),
          h('pre', { class: 'code-block', id: 'reducer-output', tabindex: '0', 'aria-label': 'Reduced payload' }, pretty(res.reducer_result)))
        : notice('error', h('strong', {}, 'Error. '), res.message));
    } catch (err) {
      reducerResult.replaceChildren();
      fail(err, 'The reducer could not run');
    }
  };

  const btn = (label, idAttr, onclick, cls = 'btn') => h('button', { type: 'button', class: cls, id: idAttr, onclick }, label);
  form.append(
    h('div', { class: 'field', 'data-field': 'event_slug' },
      h('label', { for: 'fr-event' }, 'Event'), eventSelect,
      h('p', { class: 'hint' }, entry ? `${entry.display_name}: ${entry.description}` : 'This event is not in the catalogue: paste sample data below.'),
      h('p', { class: 'field-error', hidden: true })),
    h('div', { class: 'grid-2' },
      h('div', {},
        field('Filter (JSON)', filterArea, {
            name: 'filter_configuration', aliases: 'filters',
            hint: 'Deliver only the events it matches: {"query": "<JSONPath on the payload>", "condition": "<JavaScript function of the value>"}, or {"logic": "AND"|"OR", "conditions": [...]}. Empty: every event.',
          }),
        h('div', { class: 'actions' },
          btn('Insert example', 'filter-example', () => {
            filterArea.value = pretty(exampleFilter(sample));
            filterArea.focus();
          }, 'btn btn-ghost'),
          btn('Validate filter', 'validate-filter', validateFilter)),
        filterResult),
      h('div', {},
        field('Reducer (JSON)', reducerArea, {
            name: 'reducer_configuration', aliases: 'reducer',
            hint: 'Reshape the payload: an object whose string values are JSONPath queries, replaced by what they extract. Empty: the whole payload.',
          }),
        h('div', { class: 'actions' },
          btn('Insert example', 'reducer-example', () => {
            reducerArea.value = pretty(exampleReducer(sample));
            reducerArea.focus();
          }, 'btn btn-ghost'),
          btn('Validate reducer', 'validate-reducer', validateReducer)),
        reducerResult)),
    field('Sample data (JSON)', sampleArea, {
      name: 'sample_data',
      hint: 'The payload the filter and reducer run on: the catalogue\'s sample for this event, or paste a real one.',
    }),
    h('div', { class: 'actions' },
      btn('Reset to the catalogue sample', 'reset-sample', () => {
        sampleArea.value = pretty(sample);
        announce('Sample data reset');
      }, 'btn btn-ghost'),
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'save-filters' }, 'Save filter and reducer')),
    saveResult);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    saveResult.replaceChildren();
    try {
      const filters = parse(filterArea, 'filter_configuration');
      const reducer = parse(reducerArea, 'reducer_configuration');
      // An empty editor removes the configuration: the API takes {} as "none".
      await api.saveFilterReducer(id, { event_slug: slug, filter_configuration: filters ?? {}, reducer_configuration: reducer ?? {} });
      saveResult.replaceChildren(notice('success', `Saved the filter and reducer of ${slug}.`));
      announce('Saved');
    } catch (err) {
      fail(err, 'Not saved');
    }
  });

  main.replaceChildren(h('section', { class: 'page' },
    pageHeader(`Filters & reducers of ${sub.name}`),
    h('p', {}, h('a', { href: '#/webhooks' }, '← All webhooks'), ' · ', h('a', { href: `#/webhooks/${id}/edit` }, 'Edit webhook')),
    subscribed.length ? form : notice('info', 'This webhook has no event.')));
}

// exampleFilter builds a filter on the first plain top-level value of the sample.
function exampleFilter(sample) {
  for (const [k, v] of Object.entries(sample ?? {})) {
    if (v === null || typeof v !== 'object') {
      return { query: `$.${k}`, condition: `(value) => value === ${JSON.stringify(v)}` };
    }
  }
  return { query: '$', condition: '(payload) => payload !== null' };
}

// exampleReducer keeps two top-level fields of the sample.
function exampleReducer(sample) {
  const keys = Object.keys(sample ?? {}).slice(0, 2);
  if (!keys.length) return { payload: '$' };
  return Object.fromEntries(keys.map((k) => [k, `$.${k}`]));
}
