package storefront

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
)

// jsonBodies are the types the routes decode their JSON bodies into, one a
// route, in the route table's order.
func jsonBodies() []reflect.Type {
	var out []reflect.Type
	for _, rt := range (&Server{}).routes() {
		if rt.Spec.Body != nil {
			out = append(out, reflect.TypeOf(rt.Spec.Body))
		}
	}
	return out
}

// FuzzDecodeJSON feeds any body to decodeJSON for every route's body type:
// it never panics, fails only as a client's error (400, or 413 past the
// limit), and what it accepts is one JSON object (or null) within the
// limit whose every field is one of the type's.
func FuzzDecodeJSON(f *testing.F) {
	types := jsonBodies()
	for i, typ := range types {
		zero, _ := json.Marshal(reflect.New(typ).Interface())
		for _, seed := range []string{
			string(zero), "{}", "null", " {} \n", `{"unknown": 1}`, `{"brand_id": "acct_x", "BRAND_ID": "acct_y"}`,
			`{"name": "x"}{}`, `{"name": "x"} x`, "[1]", `"str"`, "{", "", `{"price_minor": 1e400}`, `{"price_minor": "12"}`,
			`{"start_ms": -1, "x": NaN}`, `{"at": "yesterday"}`, `{"title": "\ud800"}`, "\xef\xbb\xbf{}", strings.Repeat("[", 20000),
		} {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		typ := types[int(which)%len(types)]
		v := reflect.New(typ).Interface()
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		err := decodeJSON(httptest.NewRecorder(), r, v)
		if err != nil {
			switch code := shopclip.ErrorCode(err); {
			case code == shopclip.ETOOLARGE && len(body) <= maxJSONBody:
				t.Fatalf("%s: 413 for %d bytes", typ, len(body))
			case code != shopclip.EINVALID && code != shopclip.ETOOLARGE:
				t.Fatalf("%s: %q: error %v (%s), want a client's error", typ, body, err, code)
			}
			return
		}
		if len(body) > maxJSONBody {
			t.Fatalf("%s: accepted %d bytes", typ, len(body))
		}
		if !json.Valid(body) {
			t.Fatalf("%s: accepted invalid JSON %q", typ, body)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			t.Fatalf("%s: accepted %q, not an object: %v", typ, body, err)
		}
		for name := range fields {
			if !hasJSONField(typ, name) {
				t.Fatalf("%s: accepted %q with unknown field %q", typ, body, name)
			}
		}
	})
}

// hasJSONField reports whether encoding/json decodes name into a field of
// typ: its name by tag, matched without regard to case.
func hasJSONField(typ reflect.Type, name string) bool {
	for f := range typ.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" || !f.IsExported() {
			continue
		}
		if strings.EqualFold(cmpOr(tag, f.Name), name) {
			return true
		}
	}
	return false
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestDecodeJSONLimits: a valid body past the limit is 413; an unknown
// field, a second value or a wrong type is 400 with a message naming it.
func TestDecodeJSONLimits(t *testing.T) {
	for _, tc := range []struct {
		name, body, code, msg string
	}{
		{"past the limit", `{"name": "` + strings.Repeat("a", maxJSONBody) + `"}`, shopclip.ETOOLARGE, "exceeds"},
		{"an unknown field", `{"name": "k", "account_id": "acct_x"}`, shopclip.EINVALID, `Unknown field "account_id"`},
		{"two objects", `{"name": "k"} {"name": "l"}`, shopclip.EINVALID, "single JSON object"},
		{"a wrong type", `{"name": 7}`, shopclip.EINVALID, `"name" must be a string`},
		{"empty", ``, shopclip.EINVALID, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			var in keyInput
			err := decodeJSON(httptest.NewRecorder(), r, &in)
			if got := shopclip.ErrorCode(err); got != tc.code || !strings.Contains(shopclip.ErrorMessage(err), tc.msg) {
				t.Errorf("got %s %q, want %s mentioning %q", got, shopclip.ErrorMessage(err), tc.code, tc.msg)
			}
		})
	}
}
