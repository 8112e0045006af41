package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
)

//go:embed static
var staticFS embed.FS

// assets are the embedded static files, served under one versioned prefix,
// /static/{version}/, where version is a hash of all of them: a page names
// its scripts and styles by that prefix, so every asset can be cached for
// good (Cache-Control: immutable) and ES modules import each other by
// relative paths. Text assets are gzipped once, at start.
type assets struct {
	version string
	files   map[string]*asset // by path below static/
	// imports maps each ES module (below static/) to the modules it
	// imports, directly or not, for <link rel=modulepreload>: a page then
	// fetches its whole module graph at once instead of level by level.
	imports map[string][]string
}

type asset struct {
	body, gzipped []byte
	contentType   string
	etag          string
}

// loadAssets reads and hashes the embedded files.
func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	var names []string
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	all := sha256.New()
	bodies := map[string][]byte{}
	for _, name := range names {
		body, err := staticFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		bodies[name] = body
	}
	// Generated from the domain, so the pages format money exactly as the
	// server does.
	names = append(names, "static/js/currencies.js")
	bodies["static/js/currencies.js"] = currencyModule()
	slices.Sort(names)
	for _, name := range names {
		body := bodies[name]
		sum := sha256.Sum256(body)
		all.Write([]byte(name))
		all.Write(sum[:])
		f := &asset{body: body, contentType: contentType(name), etag: hex.EncodeToString(sum[:8])}
		if compressible(f.contentType) {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			if b.Len() < len(body) {
				f.gzipped = b.Bytes()
			}
		}
		a.files[strings.TrimPrefix(name, "static/")] = f
	}
	a.version = hex.EncodeToString(all.Sum(nil)[:6])
	a.imports = moduleGraph(a.files)
	return a, nil
}

// importRE finds the static imports of our modules: import … from './x.js'.
var importRE = regexp.MustCompile(`(?m)^import\s[^'"]*from\s+'(\./[^']+\.js)';`)

// moduleGraph computes, for each module below js/, every module it needs.
func moduleGraph(files map[string]*asset) map[string][]string {
	direct := map[string][]string{}
	for name, f := range files {
		if !strings.HasPrefix(name, "js/") || !strings.HasSuffix(name, ".js") {
			continue
		}
		for _, m := range importRE.FindAllSubmatch(f.body, -1) {
			direct[name] = append(direct[name], path.Join(path.Dir(name), string(m[1])))
		}
	}
	all := map[string][]string{}
	for name := range direct {
		seen := map[string]bool{}
		todo := append([]string(nil), direct[name]...)
		for len(todo) > 0 {
			m := todo[0]
			todo = todo[1:]
			if seen[m] || m == name {
				continue
			}
			seen[m] = true
			all[name] = append(all[name], m)
			todo = append(todo, direct[m]...)
		}
		slices.Sort(all[name])
	}
	return all
}

// Preloads lists the URLs of the modules the page module name (below
// static/) imports, directly or not.
func (a *assets) Preloads(name string) []string {
	var urls []string
	for _, m := range a.imports[name] {
		urls = append(urls, a.URL(m))
	}
	return urls
}

// URL is the path a page links the asset at name (below static/) by.
func (a *assets) URL(name string) string { return "/static/" + a.version + "/" + name }

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".LICENSE", ".txt":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || strings.HasPrefix(contentType, "image/svg")
}

// ServeHTTP serves GET /static/{version}/{name...}. Another version (a page
// from before a deploy) gets the current file, revalidated rather than kept.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := a.files[r.PathValue("name")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.PathValue("version") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := f.body, f.etag
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			// Its own tag, and whole: a range of gzipped bytes is of no use
			// and must never be spliced with the plain file's.
			h.Set("Content-Encoding", "gzip")
			body, etag = f.gzipped, f.etag+"-gz"
			r.Header.Del("Range")
		}
	}
	h.Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// currencyModule is static/js/currencies.js: the minor-unit digits of every
// currency the domain knows.
func currencyModule() []byte {
	var codes []string
	digits := map[string]int{}
	shopclip.Currencies(func(code string, d int) { codes = append(codes, code); digits[code] = d })
	slices.Sort(codes)
	var b bytes.Buffer
	b.WriteString("// Generated by shopclip from its currency table: minor-unit digits per ISO-4217 code.\nexport const digits = {")
	for i, c := range codes {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:%d", c, digits[c])
	}
	b.WriteString("};\n")
	return b.Bytes()
}

// acceptsGzip reports whether r's Accept-Encoding admits gzip.
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
