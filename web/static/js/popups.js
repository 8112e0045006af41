// Pop-up cards on a playing clip. The clip's live pop-ups, priced now, come
// from GET /v1/clips/{id}/popups; each becomes a cue on a hidden metadata
// text track of the video, and a card (a link to its buy URL) placed at the
// tag's point of the picture. A card is shown exactly while the playback
// clock is inside its cue, [start_ms, end_ms): the track's cuechange, seeked
// and, while playing, every presented frame (requestVideoFrameCallback)
// re-check it against the media time. No wall-clock timer decides when a
// card shows. Prices are fetched again when a sale starts or ends
// (next_change_at) and when the page comes back into view.

import { money, left, announce } from './format.js';
import { send, withSession } from './events.js';

const IMPRESSION_MS = 1000;
const REFRESH_MS = 10 * 60 * 1000; // a backstop: prices also refresh at next_change_at

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// safeURL admits http(s) URLs and same-origin paths only, so no javascript:
// or data: URL can reach a link or an image.
function safeURL(u) {
  if (typeof u !== 'string' || u === '') return '';
  try {
    const parsed = new URL(u, location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : '';
  } catch {
    return '';
  }
}

export class PopupLayer {
  // video is the clip's <video>; layer the element the cards go into, over
  // the video; clip the clip's ID.
  constructor(video, layer, clip, { newTab = false, bottomInset = 64 } = {}) {
    this.video = video;
    this.layer = layer;
    this.clip = clip;
    this.newTab = newTab;
    this.bottomInset = bottomInset;
    this.cards = new Map(); // tag_id → {popup, el, cue, shown, impression timer}
    this.seen = new Set(); // tags with an impression sent
    this.track = video.addTextTrack('metadata', 'shopclip pop-ups');
    this.track.mode = 'hidden';
    this.track.addEventListener('cuechange', () => this.sync());
    for (const ev of ['seeked', 'seeking', 'loadedmetadata', 'timeupdate', 'pause', 'play']) {
      video.addEventListener(ev, () => this.sync());
    }
    video.addEventListener('playing', () => this.followFrames());
    this.resize = new ResizeObserver(() => this.placeAll());
    this.resize.observe(layer);
    video.addEventListener('loadedmetadata', () => this.placeAll());
    this.onVisible = () => {
      if (document.visibilityState === 'visible' && Date.now() - this.loadedAt > 60_000) this.load();
    };
    document.addEventListener('visibilitychange', this.onVisible);
  }

  // load fetches the pop-ups priced now and replaces the cards.
  async load() {
    clearTimeout(this.refreshTimer);
    this.loadedAt = Date.now();
    let data;
    try {
      const res = await fetch(`/v1/clips/${encodeURIComponent(this.clip)}/popups`, { headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error(`pop-ups: HTTP ${res.status}`);
      data = await res.json();
    } catch {
      this.schedule(Date.now() + 30_000); // try again soon, keep what shows
      return;
    }
    this.set(Array.isArray(data.popups) ? data.popups : []);
    const next = Date.parse(data.next_change_at || '');
    this.schedule(Number.isFinite(next) ? Math.min(next + 250, Date.now() + REFRESH_MS) : Date.now() + REFRESH_MS);
  }

  schedule(at) {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.load(), Math.max(1000, at - Date.now()));
  }

  // set replaces the pop-ups: a card whose tag stays keeps its element (no
  // flicker when only a price changed).
  set(popups) {
    const keep = new Set();
    for (const p of popups) {
      if (typeof p.tag_id !== 'string' || !(p.end_ms > p.start_ms)) continue;
      keep.add(p.tag_id);
      const old = this.cards.get(p.tag_id);
      const card = this.render(p);
      if (old) {
        old.el.replaceWith(card);
        this.track.removeCue(old.cue);
        clearTimeout(old.timer);
      }
      card.hidden = true;
      this.layer.append(card);
      const cue = new VTTCue(p.start_ms / 1000, p.end_ms / 1000, p.tag_id);
      cue.id = p.tag_id;
      this.track.addCue(cue);
      this.cards.set(p.tag_id, { popup: p, el: card, cue, shown: false, timer: 0 });
    }
    for (const [id, c] of this.cards) {
      if (!keep.has(id)) {
        c.el.remove();
        this.track.removeCue(c.cue);
        clearTimeout(c.timer);
        this.cards.delete(id);
      }
    }
    this.sync();
  }

  render(p) {
    const a = el('a', 'popup');
    a.dataset.popupTag = p.tag_id;
    a.href = withSession(safeURL(p.buy_url) || '#');
    a.rel = 'nofollow';
    if (this.newTab) {
      a.target = '_blank';
      a.rel = 'nofollow noopener';
    }
    const prod = p.product || {};
    const img = safeURL(prod.image_url);
    if (img) {
      const i = el('img');
      i.src = img;
      i.alt = '';
      i.width = 52;
      i.height = 52;
      i.addEventListener('error', () => i.replaceWith(el('span', 'noimg')));
      a.append(i);
    } else {
      a.append(el('span', 'noimg'));
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
    a.append(body);
    return a;
  }

  // visibleAt reports whether a card belongs on screen at media time t (s).
  static visibleAt(cue, t) {
    return t >= cue.startTime && t < cue.endTime;
  }

  // sync shows the cards whose cue holds the current media time and hides
  // the others.
  sync(mediaTime) {
    const t = mediaTime ?? this.video.currentTime;
    for (const c of this.cards.values()) {
      const on = PopupLayer.visibleAt(c.cue, t);
      if (on === c.shown) continue;
      c.shown = on;
      c.el.hidden = !on;
      if (on) this.show(c);
      else clearTimeout(c.timer);
    }
    this.tickCountdowns();
  }

  show(c) {
    this.place(c);
    const p = c.popup;
    const prod = p.product || {};
    let text = `Product: ${prod.title || ''}, ${money(prod.sale_price_minor, prod.currency || '')}`;
    if (p.label) text += `, ${p.label}`;
    announce(text);
    if (!this.seen.has(p.tag_id)) {
      clearTimeout(c.timer);
      c.timer = setTimeout(() => {
        if (c.shown && !this.seen.has(p.tag_id)) {
          this.seen.add(p.tag_id);
          send('popup_impression', { clip_id: this.clip, tag_id: p.tag_id });
        }
      }, IMPRESSION_MS);
    }
  }

  // followFrames re-checks the cards on every frame presented while
  // playing, against that frame's media time.
  followFrames() {
    if (!('requestVideoFrameCallback' in HTMLVideoElement.prototype) || this.following) return;
    this.following = true;
    const step = (_, meta) => {
      this.sync(meta.mediaTime);
      if (this.video.paused || this.video.ended) {
        this.following = false;
        return;
      }
      this.video.requestVideoFrameCallback(step);
    };
    this.video.requestVideoFrameCallback(step);
  }

  tickCountdowns() {
    const now = Date.now();
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

  destroy() {
    clearTimeout(this.refreshTimer);
    clearInterval(this.countdownTimer);
    document.removeEventListener('visibilitychange', this.onVisible);
    this.resize.disconnect();
    for (const c of this.cards.values()) {
      clearTimeout(c.timer);
      c.el.remove();
      this.track.removeCue(c.cue);
    }
    this.cards.clear();
    this.track.mode = 'disabled';
  }
}
