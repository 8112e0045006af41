// The watch page and the embed: one clip in a player with its pop-up cards,
// custom controls (keyboard too), the storyboard while scrubbing, muted
// autoplay with an unmute button, the shop list's links with the viewer's
// session (repriced when a sale starts or ends), and a carousel of the
// clip's products when it ends.

import { attach, play, reducedMotion } from './player.js';
import { PopupLayer } from './popups.js';
import { send, linkSessions } from './events.js';
import { clock, startCountdowns, localTimes } from './format.js';

const embedded = document.body.classList.contains('embed');
const root = document.querySelector('[data-player]');
let stopCountdowns = () => {};

function decorate(scope) {
  linkSessions(scope, { newTab: embedded });
  localTimes(scope);
}
decorate(document);
stopCountdowns = startCountdowns(document);
if (root) start(root);

// refreshShop fetches the page again and takes its shop list and carousel:
// the server prices them as it prices the cards.
async function refreshShop() {
  try {
    const res = await fetch(location.href, { headers: { Accept: 'text/html' } });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    for (const sel of ['[data-shop]', '[data-end] .carousel']) {
      const fresh = doc.querySelector(sel);
      const old = document.querySelector(sel);
      if (fresh && old && !old.contains(document.activeElement)) old.replaceWith(document.adoptNode(fresh));
    }
    decorate(document);
    stopCountdowns();
    stopCountdowns = startCountdowns(document);
  } catch {
    // the list keeps its prices until the next change
  }
}

function start(root) {
  const video = root.querySelector('video');
  const clip = root.dataset.clip;
  const $ = (sel) => root.querySelector(sel);
  const playBtn = $('[data-play]');
  const muteBtn = $('[data-mute]');
  const unmute = $('[data-unmute]');
  const seek = $('[data-seek]');
  const time = $('[data-time]');
  const thumb = $('[data-thumb]');
  const end = $('[data-end]');
  const errorBox = $('[data-error]');

  const fail = (message) => {
    errorBox.textContent = message;
    errorBox.hidden = false;
  };
  video.autoplay = false;
  let player = attach(video, root.dataset.hls, {
    onFatal: () => {
      // The progressive MP4, when there is one, before giving up.
      if (root.dataset.mp4 && video.getAttribute('src') !== root.dataset.mp4) {
        player = null;
        video.src = root.dataset.mp4;
        play(video);
      } else {
        fail('This video cannot be played right now. Please try again later.');
      }
    },
  });
  if (!player) {
    if (root.dataset.mp4) video.src = root.dataset.mp4;
    else fail('This browser cannot play this video.');
  }
  const popups = new PopupLayer(video, root.querySelector('.popups'), clip, { newTab: embedded, home: root, onChange: refreshShop });
  popups.load();
  // Back from another page (the back/forward cache): prices may have moved.
  addEventListener('pageshow', (e) => {
    if (e.persisted) popups.load();
  });

  // Muted autoplay (the browser allows it), unless the viewer asked for
  // less motion; the unmute button turns the sound on.
  if (!reducedMotion) play(video);

  let seeking = false; // the viewer drags the seek bar
  const duration = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration : Number(root.dataset.duration) || 0);

  function render() {
    const paused = video.paused;
    playBtn.classList.toggle('paused', paused);
    playBtn.setAttribute('aria-label', paused ? 'Play' : 'Pause');
    muteBtn.classList.toggle('sound', !video.muted);
    muteBtn.setAttribute('aria-label', video.muted ? 'Unmute' : 'Mute');
    unmute.hidden = !video.muted;
    const d = duration();
    time.textContent = clock(video.currentTime);
    if (!seeking && d > 0) seek.value = String(Math.round((video.currentTime / d) * 1000));
    seek.setAttribute('aria-valuetext', `${clock(video.currentTime)} of ${clock(d)}`);
  }
  for (const ev of ['play', 'pause', 'volumechange', 'timeupdate', 'durationchange', 'seeked', 'loadedmetadata']) {
    video.addEventListener(ev, render);
  }
  render();

  const toggle = () => (video.paused || video.ended ? play(video) : video.pause());
  const setMuted = (m) => {
    video.muted = m;
    if (!m && video.volume === 0) video.volume = 1;
  };
  playBtn.addEventListener('click', toggle);
  muteBtn.addEventListener('click', () => setMuted(!video.muted));
  unmute.addEventListener('click', () => {
    setMuted(false);
    if (video.paused) play(video);
  });
  video.addEventListener('click', toggle);

  // Seeking: the range is 0..1000 of the duration.
  seek.addEventListener('input', () => {
    seeking = true;
    const t = (Number(seek.value) / 1000) * duration();
    video.currentTime = t;
    preview(t, Number(seek.value) / 1000);
  });
  seek.addEventListener('change', () => {
    seeking = false;
    thumb.hidden = true;
  });
  seek.addEventListener('pointermove', (e) => {
    const r = seek.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    preview(f * duration(), f);
  });
  seek.addEventListener('pointerleave', () => {
    if (!seeking) thumb.hidden = true;
  });

  // Keyboard: space or k plays and pauses, arrows seek 5 s, m mutes; the
  // browser's own shortcuts (with Alt, Ctrl or Meta) pass through.
  root.addEventListener('keydown', (e) => {
    if ((e.target !== root && e.target !== video) || e.altKey || e.ctrlKey || e.metaKey) return;
    const d = duration();
    switch (e.key.toLowerCase()) {
      case ' ':
      case 'k':
        toggle();
        break;
      case 'arrowleft':
        video.currentTime = Math.max(0, video.currentTime - 5);
        break;
      case 'arrowright':
        if (d > 0) video.currentTime = Math.min(d, video.currentTime + 5);
        break;
      case 'm':
        setMuted(!video.muted);
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  // The storyboard, loaded (module and index) when first needed.
  let cues = null;
  let at = null;
  let loading = false;
  function preview(t, f) {
    if (!root.dataset.storyboard) return;
    if (!cues) {
      if (!loading) {
        loading = true;
        import('./storyboard.js')
          .then((sb) => sb.load(root.dataset.storyboard).then((c) => ((at = sb.at), (cues = c))))
          .catch(() => {});
      }
      return;
    }
    const c = at(cues, t);
    if (!c) return;
    thumb.hidden = false;
    thumb.style.width = `${c.w}px`;
    thumb.style.height = `${c.h}px`;
    thumb.style.backgroundImage = `url("${c.url.replace(/["\\]/g, '')}")`;
    thumb.style.backgroundPosition = `-${c.x}px -${c.y}px`;
    thumb.style.left = `${f * 100}%`;
    thumb.firstElementChild.textContent = clock(t);
  }

  // A view once playback passes 2 s.
  let viewed = false;
  video.addEventListener('timeupdate', () => {
    if (!viewed && video.currentTime >= 2) {
      viewed = true;
      send('view', { clip_id: clip });
    }
  });

  // The products once more when the clip ends.
  if (end) {
    video.addEventListener('ended', () => {
      end.hidden = false;
    });
    video.addEventListener('play', () => {
      end.hidden = true;
    });
    end.querySelector('[data-replay]').addEventListener('click', () => {
      video.currentTime = 0;
      play(video);
      root.focus({ preventScroll: true });
    });
  }
}
