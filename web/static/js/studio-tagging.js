// Tag a clip: find a ready clip, play and scrub it, click the picture where
// the card should point and drag the handles of the timeline to choose when
// it shows; the card previews on the clip as viewers will see it (shown
// only while the playback is inside its time). The tag is proposed through
// the API; its status (pending until the creator approves, active, or
// rejected) follows.

import { attach } from './player.js';
import { clock } from './format.js';
import { api, el, showError } from './studio.js';
import { placeCard, cardFor, sizeStage } from './studio-preview.js';

const root = document.querySelector('[data-studio-tagging]');
const editor = root.querySelector('[data-editor]');
const stage = root.querySelector('[data-stage]');
const video = root.querySelector('[data-video]');
const layer = root.querySelector('[data-layer]');
const marker = root.querySelector('[data-marker]');
const timeline = root.querySelector('[data-timeline]');
const range = root.querySelector('[data-range]');
const playhead = root.querySelector('[data-playhead]');
const handles = { start: root.querySelector('[data-handle="start"]'), end: root.querySelector('[data-handle="end"]') };
const inputs = {
  start: root.querySelector('[data-start]'),
  end: root.querySelector('[data-end]'),
  x: root.querySelector('[data-x]'),
  y: root.querySelector('[data-y]'),
};
const productSelect = root.querySelector('[data-product]');
const tagsList = root.querySelector('[data-tags]');

let clip = null;
let player = null;
let card = null;
let pollTimer = 0;
const tag = { start: 0, end: 5, x: 0.5, y: 0.5 };

// ---- finding a clip ---------------------------------------------------------

const find = root.querySelector('[data-find]');
const results = root.querySelector('[data-results]');
find.addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = new FormData(find).get('q');
  try {
    const res = await api('GET', `/v1/search?q=${encodeURIComponent(q)}&limit=12`);
    results.replaceChildren(
      ...res.clips.map((c) => {
        const li = el('li');
        const b = el('button', 'result');
        b.type = 'button';
        b.dataset.clipId = c.id;
        if (c.playback && c.playback.poster) {
          const img = el('img');
          img.src = c.playback.poster;
          img.alt = '';
          img.width = 64;
          b.append(img);
        }
        b.append(el('span', 'what', c.title || 'Untitled'));
        b.addEventListener('click', () => open(c));
        li.append(b);
        return li;
      }),
    );
    if (res.clips.length === 0) results.replaceChildren(el('li', 'empty', 'No ready clip matches.'));
  } catch (err) {
    results.replaceChildren(el('li', 'form-error', err.message));
  }
});

function open(c) {
  clip = c;
  editor.hidden = false;
  if (player) player.destroy();
  sizeStage(root.querySelector('.tagstage'), c.width, c.height);
  player = attach(video, c.playback.hls);
  video.poster = c.playback.poster || '';
  const dur = (c.duration_ms || 0) / 1000;
  set({ start: 0, end: Math.min(5, dur || 5), x: 0.5, y: 0.5 });
  showCard();
  loadTags();
  editor.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

// ---- the tag's place and time -----------------------------------------------

function duration() {
  return video.duration || (clip ? clip.duration_ms / 1000 : 0) || 1;
}

function set(next) {
  Object.assign(tag, next);
  const d = duration();
  tag.start = Math.max(0, Math.min(tag.start, d));
  tag.end = Math.max(tag.start + 0.1, Math.min(tag.end, d));
  tag.x = Math.max(0, Math.min(1, tag.x));
  tag.y = Math.max(0, Math.min(1, tag.y));
  inputs.start.value = tag.start.toFixed(1);
  inputs.end.value = tag.end.toFixed(1);
  inputs.x.value = tag.x.toFixed(3);
  inputs.y.value = tag.y.toFixed(3);
  const a = (100 * tag.start) / d;
  const b = (100 * tag.end) / d;
  handles.start.style.left = `${a}%`;
  handles.end.style.left = `${b}%`;
  handles.start.setAttribute('aria-valuetext', `${tag.start.toFixed(1)} s`);
  handles.end.setAttribute('aria-valuetext', `${tag.end.toFixed(1)} s`);
  range.style.left = `${a}%`;
  range.style.width = `${b - a}%`;
  marker.hidden = false;
  marker.style.left = `${tag.x * 100}%`;
  marker.style.top = `${tag.y * 100}%`;
  sync();
}

function showCard() {
  const opt = productSelect.selectedOptions[0];
  if (card) card.remove();
  card = null;
  if (!opt) return;
  try {
    card = cardFor(JSON.parse(opt.dataset.popup));
  } catch {
    return;
  }
  card.dataset.preview = '';
  layer.append(card);
  sync();
}
productSelect.addEventListener('change', showCard);

// sync shows the card exactly while the playback is inside the tag's time.
function sync() {
  const t = video.currentTime;
  playhead.style.left = `${(100 * t) / duration()}%`;
  root.querySelector('[data-time]').textContent = clock(t);
  if (!card) return;
  card.hidden = !(t >= tag.start && t < tag.end);
  if (!card.hidden) placeCard(stage, card, tag.x, tag.y);
}
video.addEventListener('timeupdate', sync);
video.addEventListener('seeked', sync);
video.addEventListener('loadedmetadata', () => set({}));
const frame = () => {
  sync();
  if (!video.paused) video.requestVideoFrameCallback(frame);
};
video.addEventListener('play', () => video.requestVideoFrameCallback(frame));
new ResizeObserver(sync).observe(stage);

// A click on the picture puts the card's point there.
layer.addEventListener('click', (e) => {
  if (e.target.closest('.popup')) return;
  const r = stage.getBoundingClientRect();
  set({ x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height });
  if (!(video.currentTime >= tag.start && video.currentTime < tag.end)) seek(tag.start + 0.05);
});

const play = root.querySelector('[data-play]');
play.addEventListener('click', () => (video.paused ? video.play() : video.pause()));
video.addEventListener('play', () => (play.textContent = 'Pause'));
video.addEventListener('pause', () => (play.textContent = 'Play'));

function seek(t) {
  video.currentTime = Math.max(0, Math.min(t, duration()));
  sync();
}

// The timeline: a click seeks; the handles drag the start and the end.
function timeAt(clientX) {
  const r = timeline.getBoundingClientRect();
  return ((clientX - r.left) / r.width) * duration();
}
timeline.addEventListener('pointerdown', (e) => {
  if (e.target.closest('[data-handle]')) return;
  seek(timeAt(e.clientX));
});
for (const [which, h] of Object.entries(handles)) {
  h.setAttribute('role', 'slider');
  h.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    h.setPointerCapture(e.pointerId);
    const move = (ev) => {
      set({ [which]: timeAt(ev.clientX) });
      seek(which === 'start' ? tag.start + 0.01 : Math.max(tag.start, tag.end - 0.05));
    };
    const up = () => {
      h.removeEventListener('pointermove', move);
      h.removeEventListener('pointerup', up);
      h.removeEventListener('pointercancel', up);
    };
    h.addEventListener('pointermove', move);
    h.addEventListener('pointerup', up);
    h.addEventListener('pointercancel', up);
  });
  h.addEventListener('keydown', (e) => {
    const step = e.shiftKey ? 1 : 0.1;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowDown') set({ [which]: tag[which] - step });
    else if (e.key === 'ArrowRight' || e.key === 'ArrowUp') set({ [which]: tag[which] + step });
    else return;
    e.preventDefault();
  });
}
for (const [k, input] of Object.entries(inputs)) {
  input.addEventListener('change', () => set({ [k]: Number(input.value) }));
}

// ---- proposing the tag, and following it -------------------------------------

root.querySelector('[data-submit]').addEventListener('click', async () => {
  if (!clip) return;
  showError(editor, null);
  try {
    await api('POST', `/v1/clips/${encodeURIComponent(clip.id)}/tags`, {
      product_id: productSelect.value,
      start_ms: Math.round(tag.start * 1000),
      end_ms: Math.round(tag.end * 1000),
      x: Number(tag.x.toFixed(4)),
      y: Number(tag.y.toFixed(4)),
    });
    loadTags();
  } catch (err) {
    showError(editor, err);
  }
});

const titles = new Map([...productSelect.options].map((o) => [o.value, o.textContent]));
async function loadTags() {
  clearTimeout(pollTimer);
  if (!clip) return;
  try {
    const res = await api('GET', `/v1/clips/${encodeURIComponent(clip.id)}/tags`);
    tagsList.replaceChildren(
      ...res.tags.map((t) => {
        const li = el('li');
        li.dataset.tagId = t.id;
        li.dataset.status = t.status;
        li.append(
          el('span', 'what', titles.get(t.product_id) || t.product_id),
          el('span', 'when', `${(t.start_ms / 1000).toFixed(1)}–${(t.end_ms / 1000).toFixed(1)} s`),
          el('span', 'status', t.status === 'pending' ? 'waiting for the creator' : t.status),
        );
        return li;
      }),
    );
    if (res.tags.length === 0) tagsList.replaceChildren(el('li', 'empty', 'None yet.'));
  } catch (err) {
    tagsList.replaceChildren(el('li', 'form-error', err.message));
  }
  if (document.visibilityState === 'visible') pollTimer = setTimeout(loadTags, 5000);
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') loadTags();
});
