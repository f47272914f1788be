// The REST API client. Every request carries the signed-in API key as a bearer token;
// the key lives in sessionStorage only (gone when the tab closes), never in
// localStorage or a cookie.

const SESSION_KEY = 'hookflow.admin.session';

export const COMMON_BASE = '/service/common/webhook/v1.0';
export const ADMIN_BASE = '/service/admin/webhook/v1.0';

/** The signed-in session: { key, admin, scope, org, ext, company }, or null. */
export function loadSession() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function saveSession(s) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** ApiError is a failed request, with the API's message and field errors. */
export class ApiError extends Error {
  constructor(status, message, fields = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.fields = fields; // [{field, message}]
  }
}

// Listeners told when the key is refused (401), so that the app can sign out.
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

/**
 * request sends one API call and returns the decoded JSON answer. A non-2xx answer
 * throws an ApiError built from the error envelope
 * {"success":false,"message","errors":[{"field","message"}]}.
 */
export async function request(method, path, { body, query, key } = {}) {
  const token = key ?? loadSession()?.key;
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += '?' + qs;
  }
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, 'The API could not be reached: ' + err.message);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    const message = data?.message || `${resp.status} ${resp.statusText}`;
    const err = new ApiError(resp.status, message, Array.isArray(data?.errors) ? data.errors : []);
    if (resp.status === 401 && key === undefined) {
      for (const fn of unauthorizedListeners) fn(err);
    }
    throw err;
  }
  return data;
}

/** partnerPath builds a path below the partner base of the session's tenant. */
export function partnerPath(rest) {
  const s = loadSession();
  const org = encodeURIComponent(s?.org ?? '');
  const ext = encodeURIComponent(s?.ext ?? '');
  return `/service/partner/webhook/v1.0/organization/${org}/extension/${ext}${rest}`;
}

/** companyPath builds a path below the session's company. */
export function companyPath(rest) {
  const company = encodeURIComponent(String(loadSession()?.company ?? 1));
  return partnerPath(`/company/${company}${rest}`);
}

// The event catalogue changes rarely: one load per page view.
let cataloguePromise = null;

/** catalogue returns the event catalogue's entries (event_configs). */
export function catalogue() {
  if (!cataloguePromise) {
    cataloguePromise = request('GET', COMMON_BASE + '/events')
      .then((d) => d?.event_configs ?? [])
      .catch((err) => {
        cataloguePromise = null;
        throw err;
      });
  }
  return cataloguePromise;
}

export function resetCatalogue() {
  cataloguePromise = null;
}

// The API calls the pages use, named after what they do.
export const api = {
  me: (key) => request('GET', COMMON_BASE + '/me', { key }),
  listWebhooks: (q) => request('GET', partnerPath('/subscriber'), { query: q }),
  getWebhook: (id) => request('GET', companyPath(`/subscriber/${id}`)),
  createWebhook: (body) => request('POST', companyPath('/subscriber'), { body }),
  updateWebhook: (id, body) => request('PUT', companyPath(`/subscriber/${id}`), { body }),
  deleteWebhook: (id) => request('DELETE', companyPath(`/subscriber/${id}`)),
  setStatus: (id, status) => request('PATCH', partnerPath(`/subscriber/${id}`), { body: { status } }),
  ping: (id) => request('POST', companyPath(`/subscriber/${id}/ping`)),
  validateFilter: (sampleData, filters) =>
    request('POST', partnerPath('/validate/filter'), { body: { sample_data: sampleData, filters } }),
  validateReducer: (sampleData, reducer) =>
    request('POST', partnerPath('/validate/reducer'), { body: { sample_data: sampleData, reducer } }),
  saveFilterReducer: (id, body) => request('PUT', companyPath(`/subscriber/${id}/filter_reducer`), { body }),
  deliveryDetails: (body) => request('POST', partnerPath('/report/delivery_details'), { body }),
  delivery: (id) => request('GET', partnerPath(`/delivery/${id}`)),
  retryDelivery: (id) => request('POST', partnerPath(`/delivery/${id}/retry`)),
  deliverySummary: (q) => request('GET', partnerPath('/report/delivery_summary'), { query: q }),
  responseTimeTS: (q) => request('GET', partnerPath('/report/response_time_ts'), { query: q }),
  deliveryTS: (q) => request('GET', partnerPath('/report/delivery_ts'), { query: q }),
  queue: () => request('GET', partnerPath('/report/queue')),
  installations: (company) => request('GET', partnerPath('/installation'), { query: { company_id: company } }),
};
