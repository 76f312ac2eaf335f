// The service's HTTP API (docs/api.md), from the page's own origin.  Errors
// carry the API's own "error" text; a 401 asks for the token, keeps it in
// sessionStorage (this tab only) and tries again.

import { askToken } from './dialogs.js';

export const BASE = '/service/fileupload';
export const TUS_ENDPOINT = `${BASE}/uploads`;
const TOKEN_KEY = 'fileupload.token';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body ?? {};
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  document.dispatchEvent(new CustomEvent('tokenchange'));
}

export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

// Every request turned away meanwhile waits for the same prompt.
let prompt = null;

// Resolves true once a token is given, false when the prompt is cancelled.
export function needToken() {
  if (prompt === null) {
    const message = token()
      ? 'The service refused that token. Enter a valid one.'
      : 'This service needs a token for that.';
    prompt = askToken(message).then((t) => {
      prompt = null;
      if (t === null) return false;
      sessionStorage.setItem(TOKEN_KEY, t);
      document.dispatchEvent(new CustomEvent('tokenchange'));
      return true;
    });
  }
  return prompt;
}

// An ApiError from a status and a body that should be the API's JSON.
export function apiError(status, text) {
  let body = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: nginx's or a proxy's page
  }
  const message = typeof body?.error === 'string' && body.error !== ''
    ? body.error : `The service answered ${status}.`;
  return new ApiError(status, message, body);
}

async function request(path, init = {}) {
  for (;;) {
    const res = await fetch(path, {
      ...init,
      headers: { ...init.headers, ...authHeaders() },
    });
    if (res.status === 401 && await needToken()) continue;
    if (!res.ok) throw apiError(res.status, await res.text());
    return res;
  }
}

// The "next" target of a Link header, on this origin only.
function nextLink(header) {
  for (const part of (header ?? '').split(',')) {
    const m = /^\s*<([^>]*)>\s*;\s*rel="?next"?\s*$/.exec(part);
    if (m) {
      const url = new URL(m[1], location.href);
      return url.origin === location.origin ? url.pathname + url.search : null;
    }
  }
  return null;
}

export function firstPage(limit, order) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (order === 'newest') q.set('order', 'newest');
  return `${BASE}?${q}`;
}

// One page of the list: its files and the URL of the next page (or null).
export async function listPage(url) {
  const res = await request(url);
  return { files: await res.json(), next: nextLink(res.headers.get('Link')) };
}

function itemPath(hash) {
  if (!/^[0-9a-f]{64}$/i.test(hash)) throw new ApiError(400, 'not a file hash');
  return `${BASE}/${hash.toLowerCase()}`;
}

export async function metadata(hash) {
  return (await request(itemPath(hash))).json();
}

export async function rename(hash, fileName) {
  const res = await request(itemPath(hash), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ file_name: fileName }),
  });
  return res.json();
}

export async function remove(hash) {
  await request(itemPath(hash), { method: 'DELETE' });
}

export function contentUrl(hash) {
  return `${itemPath(hash)}/content`;
}

// With a token, downloads go through fetch (a link cannot send it) and
// are handed to the browser as a blob.
export async function download(hash, name) {
  const res = await request(contentUrl(hash));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// A multipart POST of FILE (field "upfile") with upload progress, which
// fetch cannot report.  Returns { promise, abort }; the promise resolves
// with { status, text } of any answer and rejects on a network error.
export function postFile(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', BASE);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.total));
    xhr.addEventListener('load', () => resolve({ status: xhr.status, text: xhr.responseText }));
    xhr.addEventListener('error', () => reject(new Error('network error')));
    xhr.addEventListener('abort', () => reject(new Error('aborted')));
    const form = new FormData();
    form.append('upfile', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
