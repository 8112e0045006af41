// The feed, search results and creators' pages: the clip on screen plays
// muted (IntersectionObserver), with its pop-up cards; the next one is
// loaded ahead; and the "More clips" link is followed by itself as the end
// comes near (the next page, fetched as HTML, its clips moved in), so the
// feed is endless with scripts and paged without. A tap on a clip turns its
// sound on (and off); with the keyboard, space plays or pauses it and M its
// sound. Viewers who ask for less motion get posters until they press play.

import { attach, play, reducedMotion } from './player.js';
import { PopupLayer } from './popups.js';
import { send, linkSessions } from './events.js';

const feed = document.querySelector('[data-feed]');
const MAX_PLAYERS = 4; // clips loaded at once; the rest keep their poster
const MAX_PLAYING = 2; // clips playing at once on a wide grid
const players = new Map(); // article → {player, popups, abort, used, viewed}
const onScreen = new Set(); // articles at least 60% in view
let clock = 0;

if (feed) {
  const seen = new IntersectionObserver(onSeen, { threshold: [0, 0.6] });
  const watch = (root) => root.querySelectorAll('.clip').forEach((c) => seen.observe(c));
  watch(feed);
  endless(watch);
  feed.addEventListener('click', (e) => {
    const v = e.target.closest('.clip video');
    if (!v) return;
    v.muted = !v.muted;
    if (!v.muted) {
      for (const other of feed.querySelectorAll('.clip video')) if (other !== v) other.muted = true;
      if (v.paused) play(v);
    }
  });
  feed.addEventListener('keydown', (e) => {
    const stage = e.target.closest && e.target.closest('.clip .stage');
    if (!stage || e.target !== stage || e.altKey || e.ctrlKey || e.metaKey) return;
    const clip = stage.closest('.clip');
    const v = stage.querySelector('video');
    switch (e.key.toLowerCase()) {
      case ' ':
      case 'k':
        if (v.paused) {
          if (load(clip)) play(v);
        } else {
          v.pause();
        }
        break;
      case 'm':
        v.muted = !v.muted;
        break;
      default:
        return;
    }
    e.preventDefault();
  });
}
linkSessions(document);

function onSeen(entries) {
  for (const e of entries) {
    const clip = e.target;
    const video = clip.querySelector('video');
    if (e.isIntersecting && e.intersectionRatio >= 0.6) {
      onScreen.add(clip);
      const p = load(clip);
      if (p) {
        p.popups.visible();
        if (!reducedMotion) start(clip);
      }
      const next = clip.nextElementSibling;
      if (next && next.classList.contains('clip')) load(next); // ahead of the swipe
    } else {
      onScreen.delete(clip);
      if (!video.paused) {
        video.pause();
        fill();
      }
    }
  }
}

// start plays clip, unless MAX_PLAYING clips already play (a wide grid):
// the first ones on screen play, the others wait with their poster.
function start(clip) {
  const video = clip.querySelector('video');
  if (!video.paused) return;
  let playing = 0;
  for (const c of players.keys()) if (!c.querySelector('video').paused) playing++;
  if (playing < MAX_PLAYING) play(video);
}

// fill starts clips on screen, in page order, up to MAX_PLAYING.
function fill() {
  if (reducedMotion) return;
  for (const c of feed.querySelectorAll('.clip')) if (onScreen.has(c) && players.has(c)) start(c);
}

// load attaches a clip's player and pop-ups, once; beyond MAX_PLAYERS the
// least recently used clip that is not playing is unloaded.
function load(clip) {
  let p = players.get(clip);
  if (p) {
    p.used = ++clock;
    return p;
  }
  const stage = clip.querySelector('.stage');
  const video = stage.querySelector('video');
  const player = attach(video, stage.dataset.hls);
  if (!player) return null;
  const abort = new AbortController();
  const popups = new PopupLayer(video, stage.querySelector('.popups'), stage.dataset.clip, {
    bottomInset: 96,
    home: stage,
    onScreen: () => onScreen.has(clip),
  });
  popups.load();
  p = { player, popups, abort, used: ++clock, viewed: false };
  video.addEventListener('timeupdate', () => {
    if (!p.viewed && video.currentTime >= 2) {
      p.viewed = true;
      send('view', { clip_id: stage.dataset.clip });
    }
  }, { signal: abort.signal });
  players.set(clip, p);
  evict();
  return p;
}

function evict() {
  while (players.size > MAX_PLAYERS) {
    let oldest = null;
    for (const [clip, p] of players) {
      if (!clip.querySelector('video').paused || onScreen.has(clip)) continue;
      if (!oldest || p.used < players.get(oldest).used) oldest = clip;
    }
    if (!oldest) return;
    const p = players.get(oldest);
    p.abort.abort();
    p.popups.destroy();
    p.player.destroy();
    players.delete(oldest);
  }
}

// endless follows the "More clips" link as the end of the list comes near:
// one of the last three clips entering the viewport (on a phone the feed
// scrolls inside itself and the link is not shown) or the link itself. A
// failed fetch is tried again a little later.
function endless(watch) {
  const link = document.querySelector('a[data-next]');
  if (!link) return;
  let busy = false;
  let failures = 0;
  const near = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) more();
  }, { rootMargin: '0px 0px 100% 0px' });
  const arm = () => {
    near.disconnect();
    // Any of the last three clips, so a fast flick past one still counts.
    for (const c of [...feed.querySelectorAll('.clip')].slice(-3)) near.observe(c);
    near.observe(link);
  };
  async function more() {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch(link.href, { headers: { Accept: 'text/html' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const holder = document.createElement('div');
      for (const c of doc.querySelectorAll('[data-feed] .clip')) {
        if (!feed.querySelector(`[data-clip-id="${CSS.escape(c.dataset.clipId)}"]`)) holder.append(document.adoptNode(c));
      }
      watch(holder);
      feed.append(...holder.children);
      failures = 0;
      const next = doc.querySelector('a[data-next]');
      if (next) {
        link.href = next.getAttribute('href');
        arm();
      } else {
        near.disconnect();
        link.closest('.more').remove();
      }
    } catch {
      // Again in a while (the link still works when tapped), and sooner
      // if the viewer keeps scrolling.
      failures++;
      setTimeout(arm, Math.min(30_000, 2000 * failures));
    } finally {
      busy = false;
    }
  }
  arm();
}
