// The deals page: countdowns to each flash sale's end, and the list fetched
// again from the server each time a sale ends, so a deal that is over
// leaves the page (the server decides what is still an honest deal).

import { linkSessions } from './events.js';
import { startCountdowns, localTimes } from './format.js';

let stop = () => {};

function setup() {
  const list = document.querySelector('[data-deals]');
  if (!list) return;
  linkSessions(list);
  localTimes(list);
  stop();
  stop = startCountdowns(list);
  const ends = [...list.querySelectorAll('[data-ends]')].map((d) => Date.parse(d.dataset.ends)).filter(Number.isFinite);
  if (ends.length) {
    const next = Math.min(...ends);
    setTimeout(refresh, Math.min(2 ** 31 - 1, Math.max(1000, next - Date.now() + 500)));
  }
}

async function refresh() {
  try {
    const res = await fetch(location.href, { headers: { Accept: 'text/html' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const fresh = doc.querySelector('[data-deals]');
    const list = document.querySelector('[data-deals]');
    if (fresh && list) list.replaceWith(document.adoptNode(fresh));
  } catch {
    setTimeout(refresh, 30_000);
    return;
  }
  setup();
}

setup();
