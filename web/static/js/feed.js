// The feed, search results and creators' pages: every clip on screen plays
// muted (IntersectionObserver), with its pop-up cards; the next one is
// loaded ahead; and the "More clips" link is followed by itself as the end
// comes near (the next page, fetched as HTML, its clips moved in), so the
// feed is endless with scripts and paged without.

import { attach, play } from './player.js';
import { PopupLayer } from './popups.js';
import { send, linkSessions } from './events.js';

const feed = document.querySelector('[data-feed]');
const MAX_PLAYERS = 4; // clips loaded at once; the rest keep their poster
const players = new Map(); // article → {player, popups, used}
let clock = 0;

if (feed) {
  const seen = new IntersectionObserver(onSeen, { threshold: [0, 0.6] });
  const watch = (root) => root.querySelectorAll('.clip').forEach((c) => seen.observe(c));
  watch(feed);
  endless(watch);
  feed.addEventListener('click', (e) => {
    const v = e.target.closest('.clip video');
    if (!v) return;
    v.muted = !v.muted; // a tap turns the sound on (and off)
    if (!v.muted) for (const other of feed.querySelectorAll('.clip video')) if (other !== v) other.muted = true;
  });
}
linkSessions(document);

function onSeen(entries) {
  for (const e of entries) {
    const clip = e.target;
    const video = clip.querySelector('video');
    if (e.isIntersecting && e.intersectionRatio >= 0.6) {
      const p = load(clip);
      if (p) play(video);
      const next = clip.nextElementSibling;
      if (next && next.classList.contains('clip')) load(next); // ahead of the swipe
    } else if (!video.paused) {
      video.pause();
    }
  }
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
  const popups = new PopupLayer(video, stage.querySelector('.popups'), stage.dataset.clip, { bottomInset: 96 });
  popups.load();
  p = { player, popups, used: ++clock, viewed: false };
  video.addEventListener('timeupdate', () => {
    if (!p.viewed && video.currentTime >= 2) {
      p.viewed = true;
      send('view', { clip_id: stage.dataset.clip });
    }
  });
  players.set(clip, p);
  evict();
  return p;
}

function evict() {
  while (players.size > MAX_PLAYERS) {
    let oldest = null;
    for (const [clip, p] of players) {
      if (!clip.querySelector('video').paused) continue;
      if (!oldest || p.used < players.get(oldest).used) oldest = clip;
    }
    if (!oldest) return;
    const p = players.get(oldest);
    p.popups.destroy();
    p.player.destroy();
    players.delete(oldest);
  }
}

// endless follows the "More clips" link as the end of the list comes near:
// one of the last three clips entering the viewport (on a phone the feed
// scrolls inside itself and the link is not shown) or the link itself.
function endless(watch) {
  const link = document.querySelector('a[data-next]');
  if (!link) return;
  let busy = false;
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
      const next = doc.querySelector('a[data-next]');
      if (next) {
        link.href = next.getAttribute('href');
        arm();
      } else {
        near.disconnect();
        link.closest('.more').remove();
      }
    } catch {
      // the link stays: a tap on it still works
    } finally {
      busy = false;
    }
  }
  arm();
}
