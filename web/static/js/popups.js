// Pop-up cards on a playing clip. The clip's live pop-ups, priced now, come
// from GET /v1/clips/{id}/popups; each becomes a cue on a hidden metadata
// text track of the video, and a card (a link to its buy URL) placed at the
// tag's point of the picture. A card is shown exactly while the playback
// clock is inside its cue, [start_ms, end_ms): the track's cuechange, seeked
// and, while playing, every presented frame (requestVideoFrameCallback)
// re-check it against the media time. No wall-clock timer decides when a
// card shows. Prices are fetched again when a sale starts or ends
// (next_change_at, counted on the server's clock) and when the page comes
// back into view.

import { money, left, announce, serverNow, setServerNow } from './format.js';
import { send, withSession } from './events.js';

const IMPRESSION_MS = 1000;
const REFRESH_MS = 10 * 60 * 1000; // a backstop: prices also refresh at next_change_at
const REANNOUNCE_MS = 15 * 1000; // a card shown again soon after (a loop, a seek) is not read out again

// One metadata track per video, reused by every layer the video gets (a
// track cannot be removed once added).
const tracks = new WeakMap();

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// safeURL admits http(s) URLs and same-origin paths only, so no javascript:
// or data: URL can reach a link or an image.
export function safeURL(u) {
  if (typeof u !== 'string' || u === '') return '';
  try {
    const parsed = new URL(u, location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : '';
  } catch {
    return '';
  }
}

// fillCard renders pop-up p into the card a (a link to its buy URL), as
// viewers see it; the studio's previews use it too. newTab opens the link
// in a new tab.
export function fillCard(a, p, { newTab = false } = {}) {
  a.dataset.popupTag = p.tag_id;
  a.href = withSession(safeURL(p.buy_url) || '#');
  a.rel = newTab ? 'nofollow noopener' : 'nofollow';
  if (newTab) a.target = '_blank';
  const prod = p.product || {};
  const parts = [];
  const img = safeURL(prod.image_url);
  if (img) {
    const i = el('img');
    i.src = img;
    i.alt = '';
    i.width = 52;
    i.height = 52;
    i.addEventListener('error', () => i.replaceWith(el('span', 'noimg')));
    parts.push(i);
  } else {
    parts.push(el('span', 'noimg'));
  }
  const body = el('span', 'body');
  body.append(el('span', 'title', String(prod.title || '')));
  const row = el('span', 'row');
  const cur = String(prod.currency || '');
  const sale = el('span', 'sale', money(prod.sale_price_minor, cur));
  if (prod.sale_price_minor >= prod.price_minor) sale.classList.add('plain');
  row.append(sale);
  if (prod.was_price_minor > 0) {
    const was = el('s', 'was');
    was.append(el('span', 'sr-only', 'was '), money(prod.was_price_minor, cur));
    row.append(was);
  }
  if (p.label) row.append(el('span', 'label', String(p.label)));
  body.append(row);
  const ends = Date.parse(p.sale_ends_at || '');
  if (p.flash && Number.isFinite(ends)) {
    const cd = el('span', 'countdown');
    cd.dataset.ends = String(ends);
    body.append(cd);
  }
  if (p.coupon_code) {
    const c = el('span', 'coupon', 'Code ');
    c.append(el('code', '', String(p.coupon_code)));
    body.append(c);
  }
  if (prod.in_stock === false) body.append(el('span', 'coupon', 'Out of stock'));
  else body.append(el('span', 'cta', 'Shop now ›'));
  parts.push(body);
  a.replaceChildren(...parts);
}

export class PopupLayer {
  // video is the clip's <video>; layer the element the cards go into, over
  // the video; clip the clip's ID. Options: newTab opens buy links in a new
  // tab (the embed); bottomInset keeps cards above the controls; onScreen
  // says whether the clip can be seen (a feed's clip scrolled away cannot),
  // so no impression is counted and nothing is announced for it; home gets
  // the focus when a focused card goes; onChange runs after a refresh that
  // changed the pop-ups.
  constructor(video, layer, clip, { newTab = false, bottomInset = 64, onScreen = () => true, home = null, onChange = null } = {}) {
    this.video = video;
    this.layer = layer;
    this.clip = clip;
    this.newTab = newTab;
    this.bottomInset = bottomInset;
    this.onScreen = onScreen;
    this.home = home;
    this.onChange = onChange;
    this.cards = new Map(); // tag_id → {popup, el, cue, shown, timer}
    this.seen = new Set(); // tags with an impression sent
    this.announced = new Map(); // tag_id → when it was last read out
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.track = tracks.get(video);
    if (!this.track) {
      this.track = video.addTextTrack('metadata', 'shopclip pop-ups');
      tracks.set(video, this.track);
    }
    this.track.mode = 'hidden';
    this.track.addEventListener('cuechange', () => this.sync(), { signal });
    for (const ev of ['seeked', 'loadedmetadata', 'timeupdate', 'pause', 'play']) {
      video.addEventListener(ev, () => this.sync(), { signal });
    }
    video.addEventListener('playing', () => this.followFrames(), { signal });
    video.addEventListener('loadedmetadata', () => this.placeAll(), { signal });
    this.resize = new ResizeObserver(() => this.placeAll());
    this.resize.observe(layer);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && Date.now() - this.loadedAt > 60_000) this.load();
    }, { signal });
  }

  get destroyed() {
    return this.abort.signal.aborted;
  }

  // load fetches the pop-ups priced now and replaces the cards.
  async load() {
    if (this.destroyed) return;
    clearTimeout(this.refreshTimer);
    this.loadedAt = Date.now();
    let data;
    try {
      const res = await fetch(`/v1/clips/${encodeURIComponent(this.clip)}/popups`, { headers: { Accept: 'application/json' }, signal: this.abort.signal });
      if (!res.ok) throw new Error(`pop-ups: HTTP ${res.status}`);
      data = await res.json();
    } catch {
      if (!this.destroyed) this.schedule(30_000); // try again soon, keep what shows
      return;
    }
    if (this.destroyed) return;
    const pricedAt = Date.parse(data.priced_at || '');
    if (Number.isFinite(pricedAt)) setServerNow(pricedAt);
    const before = this.fingerprint;
    this.set(Array.isArray(data.popups) ? data.popups : []);
    this.fingerprint = JSON.stringify(data.popups || []);
    const next = Date.parse(data.next_change_at || '');
    // Counted on the server's clock, with a little jitter so that every
    // open page does not ask at the same instant.
    const wait = Number.isFinite(next) ? next - serverNow() + 250 + Math.random() * 1000 : REFRESH_MS;
    this.schedule(Math.min(wait, REFRESH_MS));
    if (before !== undefined && before !== this.fingerprint && this.onChange) this.onChange();
  }

  schedule(ms) {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.load(), Math.max(1000, ms));
  }

  // set replaces the pop-ups. A card whose tag stays keeps its element (no
  // flicker, and keyboard focus stays on it), with its content renewed.
  set(popups) {
    const keep = new Set();
    for (const p of popups) {
      if (typeof p.tag_id !== 'string' || !(p.end_ms > p.start_ms) || keep.has(p.tag_id)) continue;
      keep.add(p.tag_id);
      let c = this.cards.get(p.tag_id);
      if (c) {
        this.track.removeCue(c.cue);
        c.popup = p;
        this.fill(c.el, p);
      } else {
        c = { popup: p, el: el('a', 'popup'), shown: false, timer: 0 };
        c.el.hidden = true;
        this.fill(c.el, p);
        this.layer.append(c.el);
        this.cards.set(p.tag_id, c);
      }
      c.cue = new VTTCue(p.start_ms / 1000, p.end_ms / 1000, p.tag_id);
      c.cue.id = p.tag_id;
      this.track.addCue(c.cue);
    }
    for (const [id, c] of this.cards) {
      if (!keep.has(id)) this.drop(id, c);
    }
    this.sync();
    this.placeAll(); // a renewed card may have another size
  }

  drop(id, c) {
    this.hide(c);
    c.el.remove();
    this.track.removeCue(c.cue);
    this.cards.delete(id);
  }

  // fill renders pop-up p into the card a.
  fill(a, p) {
    fillCard(a, p, { newTab: this.newTab });
    this.tickCountdowns();
  }

  // sync shows the cards whose cue holds the media time (that of the frame
  // being presented, or the current time) and hides the others.
  sync(mediaTime) {
    if (this.destroyed) return;
    const t = mediaTime ?? this.video.currentTime;
    for (const c of this.cards.values()) {
      const on = t >= c.cue.startTime && t < c.cue.endTime;
      if (on === c.shown) continue;
      if (on) this.show(c);
      else this.hide(c);
    }
    this.tickCountdowns();
  }

  show(c) {
    c.shown = true;
    c.el.hidden = false;
    this.place(c);
    const p = c.popup;
    if (!this.onScreen() || document.visibilityState !== 'visible') return;
    const last = this.announced.get(p.tag_id) || 0;
    if (Date.now() - last > REANNOUNCE_MS) {
      const prod = p.product || {};
      let text = `Product: ${prod.title || ''}, ${money(prod.sale_price_minor, prod.currency || '')}`;
      if (p.label) text += `, ${p.label}`;
      announce(text);
      this.announced.set(p.tag_id, Date.now());
    }
    if (!this.seen.has(p.tag_id)) {
      clearTimeout(c.timer);
      c.timer = setTimeout(() => {
        if (c.shown && !this.destroyed && this.onScreen() && document.visibilityState === 'visible' && !this.seen.has(p.tag_id)) {
          this.seen.add(p.tag_id);
          send('popup_impression', { clip_id: this.clip, tag_id: p.tag_id });
        }
      }, IMPRESSION_MS);
    }
  }

  hide(c) {
    c.shown = false;
    clearTimeout(c.timer);
    // A card going away with the keyboard focus in it hands it back.
    if (c.el.contains(document.activeElement) && this.home) this.home.focus({ preventScroll: true });
    c.el.hidden = true;
  }

  // visible re-checks the cards when the clip comes into view (the feed).
  visible() {
    for (const c of this.cards.values()) {
      if (c.shown) {
        this.hide(c);
        this.show(c);
      }
    }
  }

  // followFrames re-checks the cards on every frame presented while
  // playing, against that frame's media time (not while a seek settles:
  // the frame on screen is then from before it).
  followFrames() {
    if (!('requestVideoFrameCallback' in HTMLVideoElement.prototype) || this.following) return;
    this.following = true;
    const step = (_, meta) => {
      if (this.destroyed || this.video.paused || this.video.ended) {
        this.following = false;
        this.sync();
        return;
      }
      if (!this.video.seeking) this.sync(meta.mediaTime);
      this.video.requestVideoFrameCallback(step);
    };
    this.video.requestVideoFrameCallback(step);
  }

  tickCountdowns() {
    const now = serverNow();
    let any = false;
    for (const c of this.cards.values()) {
      if (!c.shown) continue;
      for (const cd of c.el.querySelectorAll('.countdown')) {
        cd.textContent = `Flash sale · ends in ${left(Number(cd.dataset.ends) - now)}`;
        any = true;
      }
    }
    if (any && !this.countdownTimer) {
      this.countdownTimer = setInterval(() => this.tickCountdowns(), 1000);
    } else if (!any && this.countdownTimer) {
      clearInterval(this.countdownTimer);
      this.countdownTimer = 0;
    }
  }

  // picture is the rectangle of the video's picture inside the layer, after
  // object-fit: the part cropped by cover lies outside the layer.
  picture() {
    const W = this.layer.clientWidth;
    const H = this.layer.clientHeight;
    const vw = this.video.videoWidth || Number(this.video.getAttribute('width')) || W;
    const vh = this.video.videoHeight || Number(this.video.getAttribute('height')) || H;
    const fit = getComputedStyle(this.video).objectFit;
    const scale = fit === 'cover' ? Math.max(W / vw, H / vh) : fit === 'fill' ? 1 : Math.min(W / vw, H / vh);
    const w = fit === 'fill' ? W : vw * scale;
    const h = fit === 'fill' ? H : vh * scale;
    return { x: (W - w) / 2, y: (H - h) / 2, w, h, W, H };
  }

  // place puts a card's top-left corner at its tag's point of the picture,
  // kept inside the visible area and above the controls.
  place(c) {
    const r = this.picture();
    const cw = c.el.offsetWidth;
    const ch = c.el.offsetHeight;
    const margin = 8;
    let x = r.x + c.popup.x * r.w;
    let y = r.y + c.popup.y * r.h;
    x = Math.max(margin, Math.min(x, r.W - cw - margin));
    y = Math.max(margin, Math.min(y, r.H - ch - this.bottomInset));
    c.el.style.left = `${Math.round(x)}px`;
    c.el.style.top = `${Math.round(y)}px`;
  }

  placeAll() {
    for (const c of this.cards.values()) if (c.shown) this.place(c);
  }

  // destroy removes the cards, the cues and every listener and timer.
  destroy() {
    if (this.destroyed) return;
    this.abort.abort();
    clearTimeout(this.refreshTimer);
    clearInterval(this.countdownTimer);
    this.resize.disconnect();
    for (const [id, c] of this.cards) this.drop(id, c);
    this.track.mode = 'disabled';
  }
}
