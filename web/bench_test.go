package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip"
)

// probeJS is added to every document the benchmark opens, before the
// page's own scripts: it stamps (in ms since navigation started) the first
// frame the video presents, the first frame at or past the tag's start,
// and the moment a pop-up card becomes visible.
const probeJS = `(() => {
  const start = Number(new URLSearchParams(location.search).get('start') || '1');
  window.__bench = {};
  const watch = (v) => {
    const step = (now, meta) => {
      if (window.__bench.frame === undefined) window.__bench.frame = now;
      if (window.__bench.due === undefined && meta.mediaTime >= start) window.__bench.due = now;
      if (window.__bench.due === undefined) v.requestVideoFrameCallback(step);
    };
    v.requestVideoFrameCallback(step);
  };
  const seen = new MutationObserver(() => {
    const v = document.querySelector('video');
    if (v && !v.__benched) { v.__benched = true; watch(v); }
    const c = document.querySelector('[data-popup-tag]:not([hidden])');
    if (c && window.__bench.popup === undefined) window.__bench.popup = performance.now();
  });
  seen.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['hidden']});
})()`

// floorPage plays the same master playlist with hls.js alone: no layout,
// no controls, no pop-ups. It is the floor the watch page is measured
// against.
const floorPage = `<!doctype html><meta charset="utf-8"><title>floor</title>
<video muted playsinline autoplay style="width:100%%;height:100vh"></video>
<script src="%s"></script>
<script>
const v = document.querySelector('video');
const hls = new Hls({enableWorker: false});
hls.loadSource(%q);
hls.attachMedia(v);
v.play().catch(() => {});
</script>`

// BenchmarkWatchPage measures, in headless Chromium on loopback, the time
// from navigation to the first decoded frame of /watch/{id}, and to its
// first pop-up card being visible (the tag starts at 1 s), beside a bare
// page playing the same HLS with hls.js alone (for which the second figure
// is when the media time reaches 1 s: the earliest a card could show).
// Rounds alternate between the two, each in a fresh browser context (a
// cold cache). Run it with `make bench-web` (ROUNDS, default 7).
func BenchmarkWatchPage(b *testing.B) {
	rounds := 7
	if v, err := strconv.Atoi(os.Getenv("ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	for b.Loop() {
		benchWatch(b, rounds)
	}
}

func benchWatch(b *testing.B, rounds int) {
	w := newWorld(b)
	creator := w.account(shopclip.RoleCreator, "alice")
	brand := w.account(shopclip.RoleBrand, "acme")
	clip := w.clip(creator, "Benchmark")
	p := w.product(brand, "Lamp", 2500, "https://shop.example.com/lamp", "")
	w.tag(brand, clip, p, 1000, 3000, 0.3, 0.6)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /floor", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, floorPage, w.pages.AssetURL("vendor/hls.min.js"), clip.PlaybackPaths().HLS)
	})
	mux.Handle("/", w.srv.Config.Handler)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	browser := browserContext(b)
	type result struct{ frame, popup float64 }
	measure := func(url string) result {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancel()
		run := func(a chromedp.Action[chromedp.Void]) {
			c, stop := context.WithTimeout(ctx, 60*time.Second)
			defer stop()
			if err := chromedp.Do(c, a); err != nil {
				b.Fatalf("%s: %v", url, err)
			}
		}
		// The first action opens the tab, which lives as long as the context
		// of that action: not one with a timeout of its own.
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(430, 932, chromedp.EmulatePortrait, chromedp.EmulateMobile)); err != nil {
			b.Fatal(err)
		}
		c, stop := context.WithTimeout(ctx, 30*time.Second)
		_, err := chromedp.Call(c, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probeJS})
		stop()
		if err != nil {
			b.Fatalf("add the probe: %v", err)
		}
		run(chromedp.Navigate(url))
		deadline := time.Now().Add(30 * time.Second)
		for {
			c, stop := context.WithTimeout(ctx, 10*time.Second)
			r, err := chromedp.Run(c, chromedp.Evaluate[map[string]float64](`window.__bench`))
			stop()
			if err != nil {
				b.Fatal(err)
			}
			last, ok := r["popup"]
			if url == srv.URL+"/floor?start=1" {
				last, ok = r["due"]
			}
			if ok && r["frame"] > 0 {
				if os.Getenv("BENCH_TRACE") != "" {
					c, stop := context.WithTimeout(ctx, 10*time.Second)
					tr, _ := chromedp.Run(c, chromedp.Evaluate[[]string](`[...performance.getEntriesByType('resource'), ...performance.getEntriesByType('mark'), ...(() => { const n = performance.getEntriesByType('navigation')[0]; return ['requestStart','responseStart','responseEnd','domInteractive','domContentLoadedEventStart','domContentLoadedEventEnd','loadEventStart'].map(k => ({name: 'nav.' + k, startTime: n[k]})); })()].sort((a,b)=>a.startTime-b.startTime).map(e => Math.round(e.startTime) + '-' + Math.round(e.responseEnd||e.startTime) + ' ' + e.name.replace(location.origin, ''))`))
					stop()
					fmt.Println("trace of " + url + "\n  " + strings.Join(tr, "\n  "))
				}
				return result{frame: r["frame"], popup: last}
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s: no first frame or pop-up in 30 s: %v", url, r)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	pages := map[string]string{"floor": srv.URL + "/floor?start=1", "shopclip": srv.URL + "/watch/" + clip.ID + "?start=1"}
	var floor, ours []result
	fmt.Printf("%-6s %-9s %14s %16s\n", "round", "page", "first_frame_ms", "first_popup_ms")
	for r := range rounds {
		order := []string{"floor", "shopclip"}
		if r%2 == 1 {
			order = []string{"shopclip", "floor"}
		}
		for _, name := range order {
			res := measure(pages[name])
			if name == "floor" {
				floor = append(floor, res)
			} else {
				ours = append(ours, res)
			}
			fmt.Printf("%-6d %-9s %14.0f %16.0f\n", r+1, name, res.frame, res.popup)
		}
	}
	med := func(rs []result, f func(result) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		slices.Sort(xs)
		if n := len(xs); n%2 == 1 {
			return xs[n/2]
		} else {
			return (xs[n/2-1] + xs[n/2]) / 2
		}
	}
	frame := func(r result) float64 { return r.frame }
	popup := func(r result) float64 { return r.popup }
	ff, sf := med(floor, frame), med(ours, frame)
	fp, sp := med(floor, popup), med(ours, popup)
	fmt.Printf("\nmedians over %d rounds (ms from navigation; phone viewport, cold cache, loopback)\n", rounds)
	fmt.Printf("%-34s %10s %10s %8s\n", "", "floor", "shopclip", "ratio")
	fmt.Printf("%-34s %10.0f %10.0f %8.2f\n", "first decoded frame", ff, sf, sf/ff)
	fmt.Printf("%-34s %10.0f %10.0f %8.2f\n", "first pop-up visible (tag at 1 s)", fp, sp, sp/fp)
	b.ReportMetric(sf, "frame-ms")
	b.ReportMetric(sp, "popup-ms")
	b.ReportMetric(sf/ff, "frame-ratio")
	b.ReportMetric(sp/fp, "popup-ratio")
}
