// The deals page: countdowns to each flash sale's end, and the list fetched
// again from the server each time a sale ends (counted on the server's
// clock, with some jitter), so a deal that is over leaves the page: the
// server decides what is still an honest deal.

import { linkSessions } from './events.js';
import { startCountdowns, localTimes, serverNow } from './format.js';

let stop = () => {};
let timer = 0;

function setup() {
  const list = document.querySelector('[data-deals]');
  if (!list) return;
  linkSessions(list);
  localTimes(list);
  stop();
  stop = startCountdowns(list);
  clearTimeout(timer);
  const ends = [...list.querySelectorAll('[data-ends]')].map((d) => Date.parse(d.dataset.ends)).filter(Number.isFinite);
  if (ends.length) {
    const wait = Math.min(...ends) - serverNow() + 500 + Math.random() * 2000;
    timer = setTimeout(refresh, Math.min(2 ** 31 - 1, Math.max(1000, wait)));
  }
}

async function refresh() {
  try {
    const res = await fetch(location.href, { headers: { Accept: 'text/html' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const fresh = doc.querySelector('[data-deals]');
    const list = document.querySelector('[data-deals]');
    if (fresh && list) {
      // Keep the keyboard focus on the same link when it is still there.
      const focused = list.contains(document.activeElement) ? linkKey(document.activeElement) : null;
      list.replaceWith(document.adoptNode(fresh));
      if (focused) {
        const again = [...fresh.querySelectorAll('a[href]')].find((a) => linkKey(a) === focused);
        (again || document.querySelector('h1')).focus({ preventScroll: true });
      }
    }
  } catch {
    timer = setTimeout(refresh, 30_000);
    return;
  }
  setup();
}

// linkKey names a link of the list across refreshes: its deal's clip and
// its product.
function linkKey(a) {
  const clip = a.closest('[data-clip-id]');
  const product = a.closest('[data-product-id]');
  return `${clip ? clip.dataset.clipId : ''}|${product ? product.dataset.productId : a.className}`;
}

setup();
