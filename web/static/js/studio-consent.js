// Tags to review: each proposed tag on its clip, at its moment (the MP4
// opened at the tag's start) and place, with the card as viewers will see
// it; approve, reject, or approve the brand for good; standing approvals
// withdrawn.

import { api, showError } from './studio.js';
import { placeCard, cardFor, sizeStage } from './studio-preview.js';

const root = document.querySelector('[data-studio-consent]');

for (const li of root.querySelectorAll('[data-tag-id]')) {
  const stage = li.querySelector('[data-stage]');
  sizeStage(stage, Number(stage.dataset.w), Number(stage.dataset.h));
  let popup = null;
  try {
    popup = JSON.parse(stage.dataset.popup);
  } catch {
    popup = null;
  }
  if (popup) {
    const card = cardFor(popup);
    stage.querySelector('.popups').append(card);
    const place = () => placeCard(stage, card, Number(stage.dataset.x), Number(stage.dataset.y));
    new ResizeObserver(place).observe(stage);
    place();
  }
  for (const b of li.querySelectorAll('[data-act]')) {
    b.addEventListener('click', () => decide(li, b.dataset.act));
  }
}

async function decide(li, act) {
  const clip = encodeURIComponent(li.dataset.clipId);
  const tag = encodeURIComponent(li.dataset.tagId);
  const buttons = li.querySelectorAll('button');
  buttons.forEach((b) => (b.disabled = true));
  try {
    let t;
    if (act === 'reject') t = await api('POST', `/v1/clips/${clip}/tags/${tag}/reject`);
    else t = await api('POST', `/v1/clips/${clip}/tags/${tag}/approve`, { always: act === 'trust' });
    li.dataset.status = t.status;
    li.querySelector('.status').textContent = act === 'trust' ? `${t.status} · approved for good` : t.status;
    li.querySelector('.actions').remove();
    showError(li, null);
  } catch (err) {
    buttons.forEach((b) => (b.disabled = false));
    showError(li, err);
  }
}

for (const li of root.querySelectorAll('[data-brands] [data-brand-id]')) {
  li.querySelector('[data-act="revoke"]').addEventListener('click', async () => {
    try {
      await api('DELETE', `/v1/me/approved-brands/${encodeURIComponent(li.dataset.brandId)}`);
      li.remove();
    } catch (err) {
      li.append(document.createTextNode(` ${err.message}`));
    }
  });
}
