// The watch page and the embed: one clip in a player with its pop-up cards,
// custom controls (keyboard too), the storyboard while scrubbing, an unmute
// button when the browser refuses sound, the shop list's links with the
// viewer's session, and a carousel of the clip's products when it ends.

import { attach, play } from './player.js';
import { PopupLayer } from './popups.js';
import { send, linkSessions } from './events.js';
import { clock, startCountdowns, localTimes } from './format.js';

const root = document.querySelector('[data-player]');
if (root) start(root);
linkSessions(document);
startCountdowns(document);
localTimes(document);

function start(root) {
  const video = root.querySelector('video');
  const clip = root.dataset.clip;
  const embedded = document.body.classList.contains('embed');
  const $ = (sel) => root.querySelector(sel);
  const playBtn = $('[data-play]');
  const muteBtn = $('[data-mute]');
  const unmute = $('[data-unmute]');
  const seek = $('[data-seek]');
  const time = $('[data-time]');
  const thumb = $('[data-thumb]');
  const end = $('[data-end]');

  video.autoplay = false;
  const player = attach(video, root.dataset.hls, {
    onFatal: () => {
      time.textContent = 'Cannot play';
    },
  });
  if (!player) {
    time.textContent = 'This browser cannot play this video';
    return;
  }
  const popups = new PopupLayer(video, root.querySelector('.popups'), clip, { newTab: embedded });
  popups.load();

  // Sound if the browser allows it; otherwise muted, with the unmute button.
  (async () => {
    video.muted = false;
    if (!(await play(video))) {
      video.muted = true;
      await play(video);
    }
    render();
  })();

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
  let seeking = false;
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

  // Keyboard: space or k plays and pauses, arrows seek 5 s, m mutes.
  root.tabIndex = 0;
  root.setAttribute('aria-label', 'Video player. Space: play or pause; arrows: seek; M: sound.');
  root.addEventListener('keydown', (e) => {
    if (e.target !== root && e.target !== video) return;
    switch (e.key) {
      case ' ':
      case 'k':
        toggle();
        break;
      case 'ArrowLeft':
        video.currentTime = Math.max(0, video.currentTime - 5);
        break;
      case 'ArrowRight':
        video.currentTime = Math.min(duration(), video.currentTime + 5);
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
    });
  }
  addEventListener('pagehide', () => popups.destroy(), { once: true });
}
