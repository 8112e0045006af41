// The HLS player: hls.js (loaded as a classic script, window.Hls) on
// browsers with Media Source Extensions, the browser's own HLS (Safari, iOS)
// elsewhere. hls.js runs without a worker, so the pages' CSP needs no blob:
// scripts.

const config = {
  enableWorker: false,
  capLevelToPlayerSize: true,
  maxBufferLength: 20,
  backBufferLength: 10,
  startFragPrefetch: true,
};

// attach starts loading src into video and returns a handle with destroy(),
// or null when this browser can play no HLS.
export function attach(video, src, { onFatal } = {}) {
  const Hls = window.Hls;
  if (Hls && Hls.isSupported()) {
    const hls = new Hls(config);
    let recovered = 0;
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (!data.fatal) return;
      if (recovered < 3 && data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        recovered++;
        hls.startLoad();
      } else if (recovered < 3 && data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        recovered++;
        hls.recoverMediaError();
      } else {
        hls.destroy();
        if (onFatal) onFatal(data);
      }
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    return { destroy: () => hls.destroy() };
  }
  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.preload = 'auto'; // the feed loads a clip ahead of the swipe
    if (onFatal) video.addEventListener('error', () => onFatal(video.error), { once: true });
    video.src = src;
    return {
      destroy: () => {
        video.removeAttribute('src');
        video.load();
      },
    };
  }
  return null;
}

// play starts video and resolves to whether it plays; a browser that
// refuses autoplay leaves it paused.
export async function play(video) {
  try {
    await video.play();
    return true;
  } catch {
    return false;
  }
}

// reducedMotion says the viewer asked for less motion: clips then wait for a
// tap instead of playing by themselves.
export const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)').matches;
