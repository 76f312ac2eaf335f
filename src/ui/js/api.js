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

// A signed link to the file's bytes that works without a token until
// EXPIRES_IN seconds from now: { url, expires_at }.
export async function shareLink(hash, expiresIn) {
  const res = await request(`${itemPath(hash)}/links`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ expires_in: expiresIn }),
  });
  return res.json();
}

// The browser's own download (its progress, straight to disk) through a
// link of a few minutes: a token cannot ride along a plain link, and the
// page never holds the bytes.
export async function download(hash, name) {
  const { url } = await shareLink(hash, 300);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

// The stored file with that hash, or null when there is none.
export async function lookup(hash) {
  try {
    return await metadata(hash);
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

// The service's largest upload in bytes (tus's Tus-Max-Size), or null.
let maxSize;
export async function uploadLimit() {
  if (maxSize === undefined) {
    try {
      const res = await fetch(TUS_ENDPOINT, { method: 'OPTIONS' });
      if (!res.ok) return null;
      const n = Number(res.headers.get('Tus-Max-Size'));
      maxSize = Number.isSafeInteger(n) && n > 0 ? n : null;
    } catch {
      return null; // asked again next time
    }
  }
  return maxSize;
}

// A multipart POST of FILE (field "upfile") with upload progress, which
// fetch cannot report.  The name goes as the file_name field too (a
// part's filename turns '"', CR and LF into %22, %0D, %0A), and HASH,
// when known, as file_hash: the service refuses the file if its bytes
// differ.  Returns { promise, abort }; the promise resolves with
// { status, text } of any answer and rejects on a network error.
export function postFile(file, hash, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', BASE);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.total));
    xhr.addEventListener('load', () => resolve({ status: xhr.status, text: xhr.responseText }));
    xhr.addEventListener('error', () => reject(new Error('network error')));
    xhr.addEventListener('abort', () => reject(new Error('aborted')));
    const form = new FormData();
    form.append('file_name', file.name);
    if (hash) form.append('file_hash', hash);
    form.append('upfile', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
