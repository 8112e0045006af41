// What the studio's pages share: calling the API with the session cookie
// (same origin, so the browser sends it, and the server's cross-site check
// passes), reading its errors, and small formatting.

import { digits } from './currencies.js';

// api calls the API and resolves to the decoded JSON (null for none); a
// refusal rejects with an Error whose message is the server's, for people.
export async function api(method, path, body, { headers = {}, raw = false } = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    if (raw) {
      init.body = body;
    } else {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new Error('The server could not be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const msg = data && data.error && data.error.message;
    const err = new Error(msg || `The server answered ${res.status}.`);
    err.status = res.status;
    err.code = data && data.error && data.error.code;
    throw err;
  }
  return data;
}

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// showError puts err's message in the [data-error] element of scope, or
// hides it when err is null.
export function showError(scope, err) {
  const box = scope.querySelector('[data-error]');
  if (!box) return;
  box.hidden = !err;
  box.textContent = err ? err.message : '';
}

// bytes formats a size: "12.3 MB".
export function bytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} kB`;
  return `${n} B`;
}

// duration formats seconds left: "1 h 4 min", "3 min 5 s", "12 s".
export function duration(s) {
  if (!Number.isFinite(s) || s < 0) return '';
  s = Math.ceil(s);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

// minorUnits turns a typed amount ("49.90", "49,9") into minor units of
// currency, or NaN.
export function minorUnits(text, currency) {
  const d = digits[String(currency).toUpperCase()] ?? 2;
  const m = String(text).trim().replace(',', '.').match(/^(\d+)(?:\.(\d*))?$/);
  if (!m) return NaN;
  const frac = (m[2] || '').padEnd(d, '0');
  if (frac.length > d && /[1-9]/.test(frac.slice(d))) return NaN; // more precision than the currency has
  return Number(m[1]) * 10 ** d + Number(frac.slice(0, d) || 0);
}
