// The console's JSON API from the browser: the session cookie rides along by
// itself; state-changing requests carry the CSRF token from the login answer.

export class ApiError extends Error {
  /** @param {number} status @param {string} message @param {string} [field] */
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

let csrfToken = '';
/** @type {() => void} */
let onUnauthorized = () => {};

/** @param {string} token */
export function setCsrfToken(token) {
  csrfToken = token ?? '';
}

/** Called when a request answers 401 (the session ended). @param {() => void} handler */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/**
 * @param {string} method
 * @param {string} path below /api/v1, e.g. "/modules"
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'the console cannot be reached; is it running?');
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) {
    if (response.status === 401 && path !== '/session') onUnauthorized();
    throw new ApiError(response.status, data.error ?? response.statusText, data.field);
  }
  return data;
}

export const get = (/** @type {string} */ path) => api('GET', path);
export const post = (/** @type {string} */ path, /** @type {unknown} */ body) => api('POST', path, body);
export const patch = (/** @type {string} */ path, /** @type {unknown} */ body) => api('PATCH', path, body);
export const del = (/** @type {string} */ path) => api('DELETE', path);
export const put = (/** @type {string} */ path, /** @type {unknown} */ body) => api('PUT', path, body);
