// Viewers' events for creators' and brands' stats: a random session ID kept
// in this browser (localStorage), a view once playback passes 2 s, a pop-up
// impression once a card has been on screen for 1 s (clicks are counted by
// the buy redirect). Events go with navigator.sendBeacon, so they survive
// leaving the page. Nothing is sent, and no session is added to buy links,
// when the browser asks not to be tracked (Do Not Track or Global Privacy
// Control).

const KEY = 'shopclip.session';
let session;

export function trackingAllowed() {
  return !(navigator.doNotTrack === '1' || window.doNotTrack === '1' || navigator.globalPrivacyControl === true);
}

function randomID() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// sessionID is this browser's viewer session, or '' when tracking is not
// allowed.
export function sessionID() {
  if (!trackingAllowed()) return '';
  if (session) return session;
  try {
    session = localStorage.getItem(KEY);
    if (!session || !/^[A-Za-z0-9_-]{8,64}$/.test(session)) {
      session = randomID();
      localStorage.setItem(KEY, session);
    }
  } catch {
    session = session || randomID(); // storage refused: this page only
  }
  return session;
}

// send reports one event; fields name the clip and, for pop-ups, the tag.
export function send(type, fields) {
  const id = sessionID();
  if (!id) return false;
  const body = JSON.stringify({ type, session_id: id, ...fields });
  if (navigator.sendBeacon && navigator.sendBeacon('/v1/events', new Blob([body], { type: 'application/json' }))) return true;
  fetch('/v1/events', { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, keepalive: true }).catch(() => {});
  return true;
}

// withSession returns a buy URL carrying the viewer's session, so the click
// is deduplicated and a purchase at the store can be attributed to it.
export function withSession(href) {
  const id = sessionID();
  const u = new URL(href, location.href);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return '#';
  if (id) u.searchParams.set('session', id);
  return u.origin === location.origin ? u.pathname + u.search + u.hash : u.href;
}

// linkSessions adds the session to every buy link under root; with newTab
// (the embed, inside a store's page) the links open a new tab.
export function linkSessions(root, { newTab = false } = {}) {
  for (const a of root.querySelectorAll('a[data-buy]')) {
    a.href = withSession(a.getAttribute('href'));
    if (newTab) {
      a.target = '_blank';
      a.rel = 'nofollow noopener';
    }
  }
}
