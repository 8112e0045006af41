package storefront_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// openAPI fetches and decodes the served OpenAPI document.
func (e *env) openAPI() map[string]any {
	e.t.Helper()
	resp := e.do("", "GET", "/openapi.json", nil)
	if resp.Status != http.StatusOK {
		e.t.Fatalf("GET /openapi.json: %d %s", resp.Status, resp.Body)
	}
	var doc map[string]any
	resp.json(e.t, &doc)
	return doc
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	resp := e.do("", "GET", "/openapi.json", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !json.Valid(resp.Body) {
		t.Fatalf("not JSON: %.200s", resp.Body)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct{ Title, Version string }
		Servers []struct{ URL string }
		Paths   map[string]map[string]any
	}
	resp.json(t, &doc)
	if !regexp.MustCompile(`^3\.(0|1)\.\d+$`).MatchString(doc.OpenAPI) {
		t.Errorf("openapi = %q, want 3.0.x or 3.1.x", doc.OpenAPI)
	}
	if doc.Info.Title != "shopclip" || doc.Info.Version == "" {
		t.Errorf("info = %+v, want title shopclip and a version", doc.Info)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers = %+v, want the relative /", doc.Servers)
	}
	if len(doc.Paths) == 0 {
		t.Errorf("no paths")
	}
	// Callers with a key get the same document.
	if again := e.do("acme", "GET", "/openapi.json", nil); again.Status != http.StatusOK || string(again.Body) != string(resp.Body) {
		t.Errorf("second fetch, with a key: %d, same body %v", again.Status, string(again.Body) == string(resp.Body))
	}
}

// paramPattern matches a ServeMux wildcard: {name} or {name...}.
var paramPattern = regexp.MustCompile(`\{([^}.]+)(\.\.\.)?\}`)

// docPath is the OpenAPI path of a ServeMux pattern.
func docPath(pattern string) string {
	return paramPattern.ReplaceAllString(strings.TrimSuffix(pattern, "{$}"), "{$1}")
}

// TestOpenAPIMatchesRoutes checks the document against the route table both
// ways: one operation per route, with the route's method, path, summary and
// security, and no operation without a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	doc := e.openAPI()
	paths := obj(doc["paths"])
	schemes := obj(obj(doc["components"])["securitySchemes"])

	routes := e.api.Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		name := rt.Method + " " + rt.Pattern
		path, method := docPath(rt.Pattern), strings.ToLower(rt.Method)
		if seen[method+" "+path] {
			t.Errorf("%s: two routes map to operation %s %s", name, method, path)
		}
		seen[method+" "+path] = true
		op := obj(obj(paths[path])[method])
		if op == nil {
			t.Errorf("%s: no operation %s %s in the document", name, method, path)
			continue
		}
		if got := op["summary"]; got != rt.Doc {
			t.Errorf("%s: summary %q, want the route's Doc %q", name, got, rt.Doc)
		}
		// Security: public routes take no credential (or an optional one);
		// others need the bearer key or the session cookie, and list the
		// roles admitted.
		var optional bool
		var required []string
		for _, req := range list(op["security"]) {
			if len(obj(req)) == 0 {
				optional = true
			}
			for s := range obj(req) {
				required = append(required, s)
				sc := obj(schemes[s])
				bearer := sc["type"] == "http" && sc["scheme"] == "bearer"
				cookie := sc["type"] == "apiKey" && sc["in"] == "cookie" && sc["name"] == "shopclip_session"
				if !bearer && !cookie {
					t.Errorf("%s: security scheme %q is %v, want http bearer or the session cookie", name, s, sc)
				}
			}
		}
		if optional != (rt.Roles == nil) || !slices.Contains(required, "apiKey") || !slices.Contains(required, "session") {
			t.Errorf("%s: security %v; public route: %v", name, op["security"], rt.Roles == nil)
		}
		var wantRoles []any
		if rt.Roles != nil {
			for _, r := range append(slices.Clone(rt.Roles), shopclip.RoleAdmin) {
				wantRoles = append(wantRoles, string(r))
			}
			desc, _ := op["description"].(string)
			for _, r := range rt.Roles {
				if !strings.Contains(desc, string(r)) {
					t.Errorf("%s: description %q does not name role %s", name, desc, r)
				}
			}
		}
		if got := list(op["x-roles"]); !reflect.DeepEqual(got, wantRoles) {
			t.Errorf("%s: x-roles %v, want %v", name, got, wantRoles)
		}
	}

	ids := map[string]string{}
	tags := map[string]bool{}
	for _, tg := range list(doc["tags"]) {
		tags[obj(tg)["name"].(string)] = true
	}
	for path, item := range paths {
		for method, o := range obj(item) {
			name := method + " " + path
			if !seen[name] {
				t.Errorf("operation %s has no route", name)
			}
			op := obj(o)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] != "" {
				t.Errorf("%s: operationId %q empty or also used by %s", name, id, ids[id])
			}
			ids[id] = name
			if opTags := list(op["tags"]); len(opTags) == 0 || !tags[fmt.Sprint(opTags[0])] {
				t.Errorf("%s: tags %v, want one declared at the top level", name, opTags)
			}
			checkPathParams(t, name, path, op)
			checkResponses(t, doc, name, op)
		}
	}
	if len(seen) != len(routes) || len(ids) != len(routes) {
		t.Errorf("%d routes, %d distinct, %d operations", len(routes), len(seen), len(ids))
	}
}

// checkPathParams checks that the path's parameters and the operation's
// path parameters are the same, required strings.
func checkPathParams(t *testing.T, name, path string, op map[string]any) {
	t.Helper()
	var inPath, declared []string
	for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
		inPath = append(inPath, m[1])
	}
	for _, p := range list(op["parameters"]) {
		p := obj(p)
		if p["in"] != "path" {
			continue
		}
		declared = append(declared, p["name"].(string))
		if p["required"] != true || obj(p["schema"])["type"] != "string" {
			t.Errorf("%s: path parameter %v must be a required string", name, p)
		}
	}
	if !reflect.DeepEqual(inPath, declared) {
		t.Errorf("%s: path parameters %q, declared %q", name, inPath, declared)
	}
}

// checkResponses checks that an operation documents what it answers when
// it succeeds, and that its error responses are the shared error body.
func checkResponses(t *testing.T, doc map[string]any, name string, op map[string]any) {
	t.Helper()
	ok := 0
	for status, r := range obj(op["responses"]) {
		code, _ := strconv.Atoi(status)
		r := resolve(t, doc, obj(r))
		if r["description"] == nil {
			t.Errorf("%s: response %s has no description", name, status)
		}
		if status != "default" && (code < 100 || code > 599) {
			t.Errorf("%s: response status %q", name, status)
		}
		if status != "default" && code < 400 {
			ok++
			continue
		}
		if code >= 500 { // 500 is the default response; /readyz's 503 is a health report
			continue
		}
		body := resolve(t, doc, obj(obj(obj(r["content"])["application/json"])["schema"]))
		errObj := resolve(t, doc, obj(obj(body["properties"])["error"]))
		if got := slices.Sorted(maps.Keys(obj(errObj["properties"]))); !slices.Equal(got, []string{"code", "message"}) {
			t.Errorf("%s: response %s is not {\"error\": {\"code\", \"message\"}}: %v", name, status, body)
		}
	}
	if ok == 0 {
		t.Errorf("%s: no success response documented: give the route a spec", name)
	}
}

// TestOpenAPIMatchesRouter asks the router itself which methods each
// documented path has (a TRACE, which no route takes, answers 405 with
// Allow): they must be the documented ones.
func TestOpenAPIMatchesRouter(t *testing.T) {
	e := newEnv(t)
	paths := obj(e.openAPI()["paths"])
	for path := range paths {
		concrete := regexp.MustCompile(`\{([^}]+)\}`).ReplaceAllString(path, "x-$1")
		var want []string
		for other, item := range paths {
			if matchPath(other, concrete) {
				for m := range obj(item) {
					if m != "head" { // as in Allow, which GET routes add it to
						want = append(want, strings.ToUpper(m))
					}
				}
			}
		}
		resp := e.do("", "TRACE", concrete, nil)
		if resp.Status != http.StatusMethodNotAllowed {
			t.Errorf("TRACE %s: %d, want 405 from the router", concrete, resp.Status)
			continue
		}
		var got []string
		for m := range strings.SplitSeq(resp.Header.Get("Allow"), ",") {
			if m = strings.TrimSpace(m); m != "HEAD" {
				got = append(got, m)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		want = slices.Compact(want) // /v1/clips/live is also /v1/clips/{id}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the router allows %v, the document %v", path, got, want)
		}
	}
}

// matchPath reports whether a concrete path matches an OpenAPI path
// template, each {param} standing for one segment.
func matchPath(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") && ps[i] == "" || !strings.HasPrefix(ts[i], "{") && ts[i] != ps[i] {
			return false
		}
	}
	return true
}

// TestOpenAPIRefsResolve walks the document: every $ref points into it.
func TestOpenAPIRefsResolve(t *testing.T) {
	e := newEnv(t)
	doc := e.openAPI()
	n := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if _, err := pointer(doc, ref); err != nil {
					t.Errorf("%s: %v", at, err)
				}
			}
			for k, x := range v {
				walk(at+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(at+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", doc)
	if n == 0 {
		t.Errorf("no $ref in the document")
	}
}

// TestOpenAPISchemasFollowTypes checks response schemas against the JSON
// encoding/json makes of the domain types, with every field set: the
// properties must be exactly the JSON fields, at every depth.
func TestOpenAPISchemasFollowTypes(t *testing.T) {
	e := newEnv(t)
	doc := e.openAPI()
	clip := full[shopclip.Clip]()
	tests := []struct {
		method, path string
		status       int
		body         any // what the route answers, every field set
	}{
		{"GET", "/v1/clips/{id}/popups", 200, map[string]any{"clip_id": "clp_x", "popups": []shopclip.Popup{full[shopclip.Popup]()}, "next_change_at": time.Now(), "priced_at": time.Now()}},
		{"POST", "/v1/products", 201, full[shopclip.Product]()},
		{"PATCH", "/v1/products/{id}", 200, full[shopclip.Product]()},
		{"GET", "/v1/products/{id}/discounts", 200, map[string]any{"discounts": []shopclip.Discount{full[shopclip.Discount]()}}},
		{"POST", "/v1/clips/{id}/tags", 202, full[shopclip.Tag]()},
		{"GET", "/v1/me", 200, full[shopclip.Account]()},
		{"POST", "/v1/events", 202, map[string]any{"recorded": true, "event": full[shopclip.Event]()}},
		{"GET", "/v1/products/{id}/stats", 200, map[string]any{
			"clip_id": "clp_x", "product_id": "prd_x", "views": 1, "tags": []shopclip.TagStats{full[shopclip.TagStats]()},
			"totals": map[string]any{"impressions": 1, "clicks": 1, "ctr": 0.5, "purchases": 1, "revenue_minor": map[string]int64{"USD": 100}},
		}},
		// The API's clip is the domain clip with its playback URLs.
		{"GET", "/v1/clips/{id}", 200, struct {
			shopclip.Clip
			Playback map[string]string `json:"playback"`
		}{clip, map[string]string{"hls": "u", "mp4": "u", "poster": "u", "storyboard": "u", "share": "u"}}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			schema := responseSchema(t, doc, tt.method, tt.path, tt.status)
			js, err := json.Marshal(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			json.Unmarshal(js, &v)
			c := checker{doc: doc, exact: true}
			c.check("body", schema, v)
			for _, err := range c.errs {
				t.Error(err)
			}
		})
	}
	// The contract's names, spelled out.
	prop := func(schema map[string]any, name string) map[string]any {
		t.Helper()
		p := resolve(t, doc, obj(obj(resolve(t, doc, schema)["properties"])[name]))
		if p == nil {
			t.Fatalf("no property %q in %v", name, schema)
		}
		return p
	}
	popups := responseSchema(t, doc, "GET", "/v1/clips/{id}/popups", 200)
	product := prop(obj(prop(popups, "popups")["items"]), "product")
	for _, name := range []string{"id", "title", "image_url", "currency", "price_minor", "sale_price_minor"} {
		prop(product, name)
	}
	if p := prop(product, "sale_price_minor"); p["type"] != "integer" {
		t.Errorf("pop-up product sale_price_minor = %v, want an integer", p)
	}
}

// TestOpenAPIDescribesResponses checks real answers of the API against the
// schemas the document gives for them, and example requests against the
// request bodies.
func TestOpenAPIDescribesResponses(t *testing.T) {
	e := newEnv(t)
	doc := e.openAPI()
	clip, p, tag := e.tagged()
	if resp := e.discount("acme", p.ID, map[string]any{"kind": "percent", "percent_off": 20, "coupon_code": "SPRING"}); resp.Status != 201 {
		t.Fatalf("discount: %d %s", resp.Status, resp.Body)
	}
	tests := []struct {
		user, method, path string
		body               map[string]any
		status             int
	}{
		{"", "GET", "/v1/clips/" + clip.ID, nil, 200},
		{"", "GET", "/v1/clips/" + clip.ID + "/popups", nil, 200},
		{"", "GET", "/v1/feed?limit=1", nil, 200},
		{"alice", "GET", "/v1/clips", nil, 200},
		{"alice", "GET", "/v1/clips/" + clip.ID + "/tags", nil, 200},
		{"alice", "POST", "/v1/clips/" + clip.ID + "/tags/" + tag.ID + "/approve", map[string]any{"always": true}, 200},
		{"alice", "GET", "/v1/me/approved-brands", nil, 200},
		{"acme", "GET", "/v1/products/" + p.ID, nil, 200},
		{"acme", "GET", "/v1/products", nil, 200},
		{"acme", "GET", "/v1/products/" + p.ID + "/discounts", nil, 200},
		{"acme", "PATCH", "/v1/products/" + p.ID, map[string]any{"price_minor": 18900}, 200},
		{"acme", "POST", "/v1/products", map[string]any{"sku": "S2", "title": "Tee", "currency": "EUR", "price_minor": 1500, "url": "https://shop.example.com/p/2"}, 201},
		{"globex", "POST", "/v1/clips/" + clip.ID + "/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5}, 400},
		{"", "POST", "/v1/events", map[string]any{"type": "view", "session_id": "session-1234", "clip_id": clip.ID}, 202},
		{"acme", "POST", "/v1/events", map[string]any{"type": "purchase", "session_id": "session-1234", "product_id": p.ID, "order_id": "o-1", "amount_minor": 15920, "currency": "USD"}, 201},
		{"alice", "GET", "/v1/clips/" + clip.ID + "/stats", nil, 200},
		{"acme", "GET", "/v1/me", nil, 200},
		{"", "GET", "/healthz", nil, 200},
		{"", "GET", "/readyz", nil, 200},
		{"", "GET", "/v1/clips/" + shopclip.NewID(shopclip.PrefixClip), nil, 404},
		{"", "GET", "/v1/me", nil, 401},
		{"alice", "GET", "/v1/products", nil, 403},
		{"", "GET", "/v1/feed?limit=0", nil, 400},
	}
	ids := strings.NewReplacer(clip.ID, "{clip}", p.ID, "{product}", tag.ID, "{tag}")
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.method+" "+ids.Replace(tt.path), func(t *testing.T) {
			op, template := operation(doc, tt.method, strings.Split(tt.path, "?")[0])
			if op == nil {
				t.Fatalf("no operation for %s %s", tt.method, tt.path)
			}
			c := checker{doc: doc}
			if tt.body != nil {
				js, _ := json.Marshal(tt.body)
				var v any
				json.Unmarshal(js, &v)
				c.check("request", resolve(t, doc, obj(obj(obj(obj(op["requestBody"])["content"])["application/json"])["schema"])), v)
			}
			var resp response
			if tt.body != nil {
				resp = e.do(tt.user, tt.method, tt.path, tt.body)
			} else {
				resp = e.do(tt.user, tt.method, tt.path, nil)
			}
			if resp.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tt.status, resp.Body)
			}
			var v any
			resp.json(t, &v)
			c.check("response", responseSchema(t, doc, tt.method, template, tt.status), v)
			for _, err := range c.errs {
				t.Error(err)
			}
		})
	}
}

// operation finds the operation serving method and a concrete path.
func operation(doc map[string]any, method, path string) (map[string]any, string) {
	for template, item := range obj(doc["paths"]) {
		if op := obj(obj(item)[strings.ToLower(method)]); op != nil && matchPath(template, path) {
			return op, template
		}
	}
	return nil, ""
}

// responseSchema returns the JSON schema of an operation's response with
// status (or its default response).
func responseSchema(t *testing.T, doc map[string]any, method, path string, status int) map[string]any {
	t.Helper()
	op := obj(obj(obj(doc["paths"])[path])[strings.ToLower(method)])
	if op == nil {
		t.Fatalf("no operation %s %s", method, path)
	}
	r := obj(obj(op["responses"])[strconv.Itoa(status)])
	if r == nil {
		t.Fatalf("%s %s documents no %d response", method, path, status)
	}
	schema := obj(obj(obj(resolve(t, doc, r)["content"])["application/json"])["schema"])
	if schema == nil {
		t.Fatalf("%s %s: the %d response has no JSON schema", method, path, status)
	}
	return schema
}

// checker checks JSON values against the document's schemas: the subset of
// OpenAPI 3 schemas the generator writes. Fields not among an object's
// properties are errors; exact also wants every property present.
type checker struct {
	doc   map[string]any
	exact bool
	errs  []string
}

func (c *checker) fail(at, format string, args ...any) {
	c.errs = append(c.errs, at+": "+fmt.Sprintf(format, args...))
}

func (c *checker) check(at string, schema map[string]any, v any) {
	if ref, ok := schema["$ref"].(string); ok {
		target, err := pointer(c.doc, ref)
		if err != nil {
			c.fail(at, "%v", err)
			return
		}
		schema = obj(target)
	}
	if v == nil {
		if schema["nullable"] != true && len(schema) > 0 {
			c.fail(at, "null, but the schema is not nullable")
		}
		return
	}
	switch schema["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			c.fail(at, "%T, want an object", v)
			return
		}
		props := obj(schema["properties"])
		extra := obj(schema["additionalProperties"])
		for k, x := range m {
			if p := obj(props[k]); p != nil {
				c.check(at+"."+k, p, x)
			} else if extra != nil {
				c.check(at+"."+k, extra, x)
			} else {
				c.fail(at, "field %q is not in the schema (properties %v)", k, slices.Sorted(maps.Keys(props)))
			}
		}
		for _, r := range list(schema["required"]) {
			if _, ok := m[r.(string)]; !ok {
				c.fail(at, "required field %q missing", r)
			}
		}
		if c.exact {
			for k := range props {
				if _, ok := m[k]; !ok {
					c.fail(at, "schema property %q is not a JSON field of the type", k)
				}
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			c.fail(at, "%T, want an array", v)
			return
		}
		for i, x := range a {
			c.check(at+"["+strconv.Itoa(i)+"]", obj(schema["items"]), x)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			c.fail(at, "%T, want a string", v)
			return
		}
		if enum := list(schema["enum"]); enum != nil && !c.exact && !slices.Contains(enum, any(s)) {
			c.fail(at, "%q is not one of %v", s, enum)
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				c.fail(at, "%q is not an RFC 3339 time", s)
			}
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			c.fail(at, "%v, want an integer", v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			c.fail(at, "%v, want a number", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			c.fail(at, "%v, want a boolean", v)
		}
	case nil:
		if len(schema) > 0 {
			c.fail(at, "schema without a type: %v", schema)
		}
	default:
		c.fail(at, "unknown schema type %v", schema["type"])
	}
}

// pointer resolves a local JSON reference ("#/components/schemas/Clip").
func pointer(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local", ref)
	}
	var v any = doc
	for tok := range strings.SplitSeq(rest, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := v.(map[string]any)
		if !ok || m[tok] == nil {
			return nil, fmt.Errorf("$ref %q does not resolve (at %q)", ref, tok)
		}
		v = m[tok]
	}
	return v, nil
}

// resolve follows o's $ref, if any.
func resolve(t *testing.T, doc map[string]any, o map[string]any) map[string]any {
	t.Helper()
	ref, ok := o["$ref"].(string)
	if !ok {
		return o
	}
	v, err := pointer(doc, ref)
	if err != nil {
		t.Fatal(err)
	}
	return obj(v)
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { a, _ := v.([]any); return a }

// full returns a T with every field set to a non-zero value, so that its
// JSON shows every field, omitempty ones too.
func full[T any]() T {
	var v T
	fill(reflect.ValueOf(&v).Elem())
	return v
}

func fill(v reflect.Value) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, x := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(x)
		m.SetMapIndex(k, x)
		v.Set(m)
	}
}
