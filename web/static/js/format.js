// Formatting shared by the pages' scripts. money matches the server's
// tagging.FormatMoney ("159.20 USD", "1500 JPY"), with the server's own
// table of minor-unit digits (currencies.js, generated from it).

import { digits } from './currencies.js';

export function money(minor, currency) {
  const d = digits[currency] ?? 2; // an unknown code: two digits, as the server assumes
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  if (d === 0) return `${sign}${abs} ${currency}`;
  const unit = 10 ** d;
  return `${sign}${Math.floor(abs / unit)}.${String(abs % unit).padStart(d, '0')} ${currency}`;
}

// clock formats seconds of media as m:ss.
export function clock(s) {
  if (!Number.isFinite(s) || s < 0) s = 0;
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

// left formats the time until an instant: "2:05:09", "4:09", or "ended".
export function left(ms) {
  if (ms <= 0) return 'ended';
  const s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

// The server's clock, as the page learnt it: sales start and end by it, not
// by this device's clock, which may be off. The page says when it was made
// (<body data-now>); each pop-up fetch says when its prices hold
// (priced_at).
let offset = (() => {
  const t = Date.parse(document.body.dataset.now || '');
  return Number.isFinite(t) ? t - Date.now() : 0;
})();

// serverNow is the server's time now, in ms since the epoch.
export function serverNow() {
  return Date.now() + offset;
}

// setServerNow records that the server's time is now t.
export function setServerNow(t) {
  offset = t - Date.now();
}

// tick calls fn now and then every second while the page is open; it
// returns a function that stops it.
export function tick(fn) {
  fn();
  const id = setInterval(fn, 1000);
  return () => clearInterval(id);
}

// startCountdowns keeps every <time data-countdown datetime=…> under root
// counting down to its time.
export function startCountdowns(root) {
  const els = [...root.querySelectorAll('time[data-countdown]')];
  if (els.length === 0) return () => {};
  return tick(() => {
    const now = serverNow();
    for (const el of els) el.textContent = left(Date.parse(el.dateTime) - now);
  });
}

// announce reads text to screen-reader users through the page's polite live
// region, without moving focus.
export function announce(text) {
  const region = document.getElementById('announcer');
  if (region) region.textContent = text;
}

// localTimes shows every <time data-local datetime=…> under root in the
// viewer's time zone and language.
export function localTimes(root) {
  const fmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
  for (const el of root.querySelectorAll('time[data-local]')) {
    const t = Date.parse(el.dateTime);
    if (Number.isFinite(t)) el.textContent = fmt.format(t);
  }
}
