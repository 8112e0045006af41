// The creator's clips: an upload queue (drag and drop or pick, several at
// once) sending each file with the tus protocol (tus-js-client, loaded as
// window.tus) to /v1/uploads/, with progress, speed and time left, pause,
// resume, cancel and retry, resuming after a dropped connection by itself
// and after a reload when the same file is picked again; and the list of
// clips, kept live by GET /v1/clips/live (server-sent events).

import { api, el, bytes, duration } from './studio.js';

const root = document.querySelector('[data-studio-clips]');
const queue = root.querySelector('[data-queue]');
const list = root.querySelector('[data-clips]');
const tus = window.tus;
const uploads = new Set(); // the items uploading now, for beforeunload

// ---- the upload queue ----------------------------------------------------

function titleOf(name) {
  return name.replace(/\.[^.]*$/, '').trim();
}

// errorText reads the reason of a tus failure: the API's JSON message when
// the server refused, else the network's.
function errorText(err) {
  const res = err && err.originalResponse;
  if (res) {
    try {
      const body = JSON.parse(res.getBody());
      if (body && body.error && body.error.message) return body.error.message;
    } catch {
      // not JSON: tusd's own plain-text errors
    }
    const status = res.getStatus();
    if (status === 413) return 'The file is larger than the upload limit.';
    if (status === 409) return 'The upload and the server disagree about where to go on; retry to ask again.';
    return `The server answered ${status}.`;
  }
  return 'The connection was lost. It will go on when the network is back; or retry.';
}

// busyFor returns the seconds a busy server (429 or 503: too many uploads
// at once) asks to wait before going on, or 0. A long wait (a daily
// quota) is not a busy server: its message is shown instead.
function busyFor(err) {
  const res = err && err.originalResponse;
  if (!res || (res.getStatus() !== 429 && res.getStatus() !== 503)) return 0;
  const secs = parseInt(res.getHeader('Retry-After'), 10);
  return secs > 0 && secs <= 120 ? secs : 0;
}

class Item {
  constructor(file) {
    this.file = file;
    this.li = el('li', 'upload');
    this.li.dataset.upload = file.name;
    this.li.dataset.state = 'waiting';
    this.name = el('span', 'what', file.name);
    this.title = el('input');
    this.title.value = titleOf(file.name);
    this.title.maxLength = 200;
    this.title.setAttribute('aria-label', `Title of ${file.name}`);
    this.bar = el('progress');
    this.bar.max = 1;
    this.bar.value = 0;
    this.bar.setAttribute('aria-label', `Upload of ${file.name}`);
    this.info = el('span', 'when', bytes(file.size));
    this.reason = el('span', 'reason');
    this.reason.hidden = true;
    this.buttons = el('span', 'actions');
    this.li.append(this.name, this.title, this.bar, this.info, this.reason, this.buttons);
    queue.append(this.li);
    this.samples = [];
  }

  setState(state, buttons) {
    this.li.dataset.state = state;
    if (state === 'uploading') uploads.add(this);
    else uploads.delete(this);
    this.buttons.replaceChildren(
      ...buttons.map(([label, fn, cls]) => {
        const b = el('button', cls || '', label);
        b.type = 'button';
        b.addEventListener('click', fn);
        return b;
      }),
    );
  }

  // failed goes on after the wait a busy server asks for (at most 30 times
  // in a row), and otherwise shows why the upload stopped.
  failed(err) {
    const wait = busyFor(err);
    if (wait && (this.waits || 0) < 30) {
      this.waits = (this.waits || 0) + 1;
      this.info.textContent = `${errorText(err)} Going on in ${duration(wait)}…`;
      this.later = setTimeout(() => this.start(), wait * 1000);
      return;
    }
    this.fail(errorText(err));
  }

  fail(message) {
    this.reason.hidden = false;
    this.reason.textContent = message;
    this.setState('failed', [['Retry', () => this.start()], ['Remove', () => this.remove(true)]]);
  }

  async start() {
    this.reason.hidden = true;
    if (!this.upload) {
      // The title is sent when the upload is created; after a failure the
      // same upload goes on, with the title it was given.
      const meta = { filename: this.file.name, filetype: this.file.type || 'application/octet-stream' };
      if (this.title.value.trim()) meta.title = this.title.value.trim();
      this.upload = new tus.Upload(this.file, {
        endpoint: '/v1/uploads/',
        metadata: meta,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
        removeFingerprintOnSuccess: true,
        onShouldRetry: (err) => {
          if (busyFor(err)) return false; // waited out in onError, as long as asked
          const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
          return status === 0 || status === 409 || status === 423 || status === 429 || status >= 500;
        },
        onProgress: (sent, total) => this.progress(sent, total),
        onAfterResponse: (req, res) => {
          const id = res.getHeader('Shopclip-Clip-Id');
          if (id) this.clipID = id;
        },
        onError: (err) => this.failed(err),
        onSuccess: () => this.done(),
      });
      const previous = await this.upload.findPreviousUploads();
      if (previous.length) {
        this.upload.resumeFromPreviousUpload(previous[0]);
        this.info.textContent = 'Going on from where it stopped…';
      }
    }
    this.title.disabled = true;
    this.setState('uploading', [['Pause', () => this.pause()], ['Cancel', () => this.cancel(), 'danger']]);
    this.upload.start();
  }

  progress(sent, total) {
    this.waits = 0;
    this.bar.value = total ? sent / total : 0;
    const now = performance.now();
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    const [t0, s0] = this.samples[0];
    const rate = now > t0 ? ((sent - s0) * 1000) / (now - t0) : 0;
    let text = `${bytes(sent)} of ${bytes(total)}`;
    if (rate > 0 && sent < total) text += ` · ${bytes(rate)}/s · ${duration((total - sent) / rate)} left`;
    this.info.textContent = text;
    this.li.dataset.progress = String(Math.round((100 * sent) / Math.max(total, 1)));
  }

  pause() {
    clearTimeout(this.later);
    this.upload.abort();
    this.samples = [];
    this.setState('paused', [['Resume', () => this.start()], ['Cancel', () => this.cancel(), 'danger']]);
  }

  async cancel() {
    clearTimeout(this.later);
    this.setState('cancelled', []);
    try {
      await this.upload.abort(true);
    } catch {
      // gone already
    }
    this.remove(false);
  }

  remove(terminate) {
    clearTimeout(this.later);
    if (terminate && this.upload && this.upload.url) this.upload.abort(true).catch(() => {});
    uploads.delete(this);
    this.li.remove();
  }

  done() {
    this.bar.value = 1;
    this.info.textContent = `${bytes(this.file.size)} uploaded · processing starts`;
    this.setState('done', [['Clear', () => this.remove(false)]]);
    if (this.clipID) this.li.dataset.clipId = this.clipID;
    refreshUnfinished();
  }
}

function add(files) {
  for (const f of files) new Item(f).start();
}

const pick = root.querySelector('[data-pick]');
pick.addEventListener('change', () => {
  add([...pick.files]);
  pick.value = '';
});
const zone = root.querySelector('[data-dropzone]');
zone.addEventListener('dragover', (e) => {
  e.preventDefault();
  zone.classList.add('over');
});
zone.addEventListener('dragleave', () => zone.classList.remove('over'));
zone.addEventListener('drop', (e) => {
  e.preventDefault();
  zone.classList.remove('over');
  add([...e.dataTransfer.files].filter((f) => f.size > 0));
});

addEventListener('beforeunload', (e) => {
  if (uploads.size === 0) return;
  e.preventDefault();
  e.returnValue = '';
});

// Uploads a reload or a closed tab left behind: their URLs are kept by
// tus-js-client in localStorage, under the file's fingerprint.
async function refreshUnfinished() {
  const box = root.querySelector('[data-unfinished]');
  const ul = root.querySelector('[data-unfinished-list]');
  let all = [];
  try {
    all = await tus.defaultOptions.urlStorage.findAllUploads();
  } catch {
    all = [];
  }
  const busy = new Set([...queue.querySelectorAll('li')].map((li) => li.dataset.upload));
  const left = all.filter((u) => !(u.metadata && busy.has(u.metadata.filename)));
  ul.replaceChildren(
    ...left.map((u) => {
      const li = el('li');
      li.append(el('span', 'what', (u.metadata && u.metadata.filename) || 'A file'), el('span', 'when', bytes(u.size || 0)));
      const forget = el('button', 'danger', 'Forget');
      forget.type = 'button';
      forget.addEventListener('click', async () => {
        await tus.defaultOptions.urlStorage.removeUpload(u.urlStorageKey);
        if (u.uploadUrl) fetch(u.uploadUrl, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } }).catch(() => {});
        refreshUnfinished();
      });
      li.append(forget);
      return li;
    }),
  );
  box.hidden = left.length === 0;
}
refreshUnfinished();

// ---- the clips, live -------------------------------------------------------

const STATUS = { uploaded: 'Uploaded · waiting to be processed', processing: 'Processing', ready: 'Ready', failed: 'Failed' };

function reprocessable(c) {
  return c.status === 'failed' && !(c.error && String(c.error.code).startsWith('media_'));
}

function render(c) {
  let li = list.querySelector(`li[data-clip-id="${CSS.escape(c.id)}"]`);
  if (!li) {
    li = el('li');
    li.dataset.clipId = c.id;
    list.prepend(li);
  }
  li.dataset.status = c.status;
  const parts = [el('span', 'what', c.title || 'Untitled')];
  const status = el('span', 'status', STATUS[c.status] || c.status);
  parts.push(status);
  if (c.status === 'processing') {
    const bar = el('progress');
    bar.max = 1;
    bar.value = c.progress || 0;
    bar.setAttribute('aria-label', `Processing of ${c.title || 'the clip'}`);
    status.textContent = `Processing ${Math.round((c.progress || 0) * 100)}%`;
    parts.push(bar);
  }
  if (c.status === 'processing' && c.playback && c.playback.hls) parts.push(el('span', 'hint', 'Playable already'));
  if (c.error) parts.push(el('span', 'reason', c.error.message));
  const actions = el('span', 'actions');
  if (c.status === 'ready') {
    const a = el('a', '', 'Watch');
    a.href = `/watch/${encodeURIComponent(c.id)}`;
    actions.append(a);
  }
  if (reprocessable(c)) {
    const retry = el('button', '', 'Process again');
    retry.type = 'button';
    retry.addEventListener('click', () => act(li, () => api('POST', `/v1/clips/${encodeURIComponent(c.id)}/retry`)));
    actions.append(retry);
  }
  const del = el('button', 'danger', 'Delete');
  del.type = 'button';
  del.addEventListener('click', () => confirmDelete(c, li));
  actions.append(del);
  parts.push(actions);
  li.replaceChildren(...parts);
  root.querySelector('[data-no-clips]').hidden = true;
}

async function act(li, fn) {
  try {
    const c = await fn();
    if (c && c.id) render(c);
  } catch (err) {
    let r = li.querySelector('.reason');
    if (!r) li.append((r = el('span', 'reason')));
    r.textContent = err.message;
  }
}

const dialog = root.querySelector('[data-confirm-delete]');
function confirmDelete(c, li) {
  dialog.querySelector('[data-confirm-title]').textContent = c.title || 'Untitled';
  dialog.returnValue = '';
  dialog.showModal();
  dialog.addEventListener(
    'close',
    () => {
      if (dialog.returnValue !== 'delete') return;
      act(li, async () => {
        await api('DELETE', `/v1/clips/${encodeURIComponent(c.id)}`);
        li.remove();
      });
    },
    { once: true },
  );
}

const state = root.querySelector('[data-live-state]');
function live() {
  const es = new EventSource('/v1/clips/live');
  es.addEventListener('clip', (e) => render(JSON.parse(e.data)));
  es.addEventListener('deleted', (e) => {
    const { id } = JSON.parse(e.data);
    const li = list.querySelector(`li[data-clip-id="${CSS.escape(id)}"]`);
    if (li) li.remove();
  });
  es.addEventListener('open', () => {
    state.textContent = 'Status updates as it happens.';
    root.dataset.live = 'open';
  });
  es.addEventListener('error', () => {
    state.textContent = 'Reconnecting for live status…';
    root.dataset.live = 'closed';
  });
}
live();
