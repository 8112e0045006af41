package web_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
)

// The front-end packages as web/package-lock.json pins them, installed once
// per test run with `npm ci` into a temporary directory.
var npm struct {
	once sync.Once
	dir  string
	err  error
}

// nodeModules returns the node_modules directory of an `npm ci` of the
// lockfile.
func nodeModules(t *testing.T) string {
	t.Helper()
	bin := testenv.Tool(t, "npm")
	npm.once.Do(func() {
		dir, err := os.MkdirTemp("", "shopclip-npm-")
		if err != nil {
			npm.err = err
			return
		}
		for _, f := range []string{"package.json", "package-lock.json"} {
			b, err := os.ReadFile(f)
			if err != nil {
				npm.err = err
				return
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				npm.err = err
				return
			}
		}
		cmd := exec.Command(bin, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			npm.err = fmt.Errorf("npm ci: %v\n%s", err, out)
			return
		}
		npm.dir = filepath.Join(dir, "node_modules")
	})
	if npm.err != nil {
		t.Fatal(npm.err)
	}
	return npm.dir
}

func cleanupNPM() {
	if npm.dir != "" {
		os.RemoveAll(filepath.Dir(npm.dir))
	}
}

// TestVendoredHLSMatchesLockfile rebuilds static/vendor from the lockfile
// and compares: the hls.js the binary embeds is exactly the pinned one.
func TestVendoredHLSMatchesLockfile(t *testing.T) {
	mods := nodeModules(t)
	for vendored, pkg := range map[string]string{
		"static/vendor/hls.min.js":            "hls.js/dist/hls.min.js",
		"static/vendor/hls.js.LICENSE":        "hls.js/LICENSE",
		"static/vendor/tus.min.js":            "tus-js-client/dist/tus.min.js",
		"static/vendor/tus-js-client.LICENSE": "tus-js-client/LICENSE",
	} {
		want, err := os.ReadFile(filepath.Join(mods, pkg))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(vendored)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s of the lockfile's package: copy it again (cd web && npm ci && cp node_modules/%s %s)", vendored, pkg, pkg, vendored)
		}
	}
}

// TestPageWeight adds up what a first visit of the watch page downloads of
// the page's own scripts and styles and hls.js, gzipped as served: the
// budget is 150 KB.
func TestPageWeight(t *testing.T) {
	w := newWorld(t)
	creator := w.account(shopclip.RoleCreator, "alice")
	clip := w.clip(creator, "Weight")
	_, html := w.get("/watch/" + clip.ID)
	todo := regexp.MustCompile(`(?:src|href)="(/static/[^"]+\.(?:js|css|svg))"`).FindAllStringSubmatch(html, -1)
	seen := map[string]bool{}
	total := 0
	var list []string
	for len(todo) > 0 {
		p := todo[0][1]
		todo = todo[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		res, body := w.get(p, "Accept-Encoding", "gzip")
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", p, res.StatusCode)
		}
		total += len(body)
		list = append(list, fmt.Sprintf("%s %d", path.Base(p), len(body)))
		if strings.HasSuffix(p, ".js") && !strings.Contains(p, "/vendor/") {
			_, src := w.get(p)
			for _, m := range regexp.MustCompile(`from '(\./[^']+)'`).FindAllStringSubmatch(src, -1) {
				todo = append(todo, []string{"", path.Join(path.Dir(p), m[1])})
			}
		}
	}
	t.Logf("first load of /watch: %d bytes gzipped: %s", total, strings.Join(list, ", "))
	if total > 150<<10 {
		t.Errorf("the watch page's scripts and styles weigh %d bytes gzipped; the budget is %d", total, 150<<10)
	}
	if len(seen) < 5 {
		t.Errorf("found only %d assets (%v): the crawl of the imports is broken", len(seen), list)
	}
}

// TestAccessibility runs axe-core (from the lockfile) on every page at both
// sizes: no serious or critical violation.
func TestAccessibility(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join(nodeModules(t), "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	w := newScene(t, "Accessible")
	clip, creator := w.clip, w.creator
	p, tg := w.productTag("Lamp", 2500, "/lamp", 0, 7000, 0.2, 0.3)
	w.discount(w.brand, p, 20, time.Now().Add(-time.Minute), time.Now().Add(time.Hour), true, "LAMP20")
	type violation struct {
		ID, Impact, Help string
		Nodes            []string
	}
	for _, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) {
			tb := newTab(t, vp)
			pages := []string{"/", "/watch/" + clip.ID, "/deals", "/creators/" + creator.ID, "/search?q=lamp", "/embed/" + clip.ID,
				"/watch/clp_aaaaaaaaaaaaaaaaaaaaaaaaaa", "/studio/login", "/studio/signup", "/studio"}
			for _, page := range pages {
				if page == "/watch/clp_aaaaaaaaaaaaaaaaaaaaaaaaaa" {
					tb.allowErrors("404 (Not Found) (" + w.srv.URL + page)
				}
				if page == "/studio" { // signed in, with a key and the new-key banner
					tb.do(
						chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Axe "+vp.name),
						chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "axe-"+vp.name+"@example.com"),
						chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "a long enough password"),
						chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
					)
					tb.waitJS("the studio", `location.pathname === '/studio'`, 10*time.Second)
					tb.do(chromedp.SendKeys(chromedp.CSS(`input[name=name][placeholder]`), "a key"), chromedp.Click(chromedp.CSS(`#keys form.inline button`)))
					tb.waitJS("the new key", `document.querySelector('[data-new-key]')`, 10*time.Second)
				} else {
					tb.open(w.srv.URL + page)
				}
				if strings.HasPrefix(page, "/watch/clp_") && page != "/watch/clp_aaaaaaaaaaaaaaaaaaaaaaaaaa" {
					tb.waitJS("the card", fmt.Sprintf(`(() => { const c = document.querySelector('[data-popup-tag=%q]'); return c && !c.hidden; })()`, tg.ID), 20*time.Second)
				}
				eval[bool](tb, string(axe)+";true")
				got := eval[[]violation](tb, `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({ID: v.id, Impact: v.impact, Help: v.help, Nodes: v.nodes.slice(0, 3).map(n => n.html)})))`)
				for _, v := range got {
					t.Errorf("%s: %s (%s): %s: %v", page, v.ID, v.Impact, v.Help, v.Nodes)
				}
			}
		})
	}
}
