// A tag's card placed on its clip as viewers will see it: the picture is
// shown whole (the stage has the clip's aspect ratio), so the tag's point
// (x, y: fractions of the picture) is a fraction of the stage too. Cards are
// kept inside the stage, as the player keeps them.

import { fillCard } from './popups.js';

// placeCard positions card (absolutely, in stage) at x, y of the picture.
export function placeCard(stage, card, x, y) {
  const W = stage.clientWidth;
  const H = stage.clientHeight;
  const margin = 4;
  const left = Math.max(margin, Math.min(x * W, W - card.offsetWidth - margin));
  const top = Math.max(margin, Math.min(y * H, H - card.offsetHeight - margin));
  card.style.left = `${Math.round(left)}px`;
  card.style.top = `${Math.round(top)}px`;
}

// cardFor makes the card of pop-up p, a link that leads nowhere in the
// studio.
export function cardFor(p) {
  const a = document.createElement('a');
  a.className = 'popup';
  fillCard(a, p);
  a.removeAttribute('href');
  a.tabIndex = -1;
  return a;
}

// sizeStage gives stage the clip's aspect ratio (the stylesheet bounds
// its height through --ar).
export function sizeStage(stage, w, h) {
  if (w > 0 && h > 0) stage.style.setProperty('--ar', String(w / h));
}
