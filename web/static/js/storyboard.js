// The storyboard: a WebVTT index of thumbnails in one sprite
// ("storyboard.jpg#xywh=x,y,w,h" per cue), shown above the seek bar while
// scrubbing.

function seconds(ts) {
  const parts = ts.trim().split(':').map(Number);
  return parts.reduce((acc, v) => acc * 60 + v, 0);
}

// parse reads a storyboard VTT; base resolves the sprite's relative URL.
export function parse(text, base) {
  const cues = [];
  for (const block of text.replace(/\r/g, '').split('\n\n')) {
    const lines = block.split('\n');
    const timing = lines.findIndex((l) => l.includes('-->'));
    if (timing < 0 || !lines[timing + 1]) continue;
    const [from, rest] = lines[timing].split('-->');
    const to = rest.trim().split(/\s+/)[0];
    const [file, frag] = lines[timing + 1].trim().split('#xywh=');
    if (!frag) continue;
    const [x, y, w, h] = frag.split(',').map(Number);
    const url = new URL(file, base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    cues.push({ start: seconds(from), end: seconds(to), url: url.href, x, y, w, h });
  }
  return cues;
}

export async function load(src) {
  const res = await fetch(src);
  if (!res.ok) throw new Error(`storyboard: HTTP ${res.status}`);
  return parse(await res.text(), new URL(src, location.href).href);
}

// at returns the cue holding time t (s), or the last one before it.
export function at(cues, t) {
  let found = null;
  for (const c of cues) {
    if (c.start <= t) found = c;
    else break;
  }
  return found;
}
