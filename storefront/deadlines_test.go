package storefront

import (
	"slices"
	"testing"
)

// TestRouteBodyClasses: the routes that take a file's bytes read them with
// an idle deadline (the tus PATCH by tusd's own); every other body must
// arrive whole in time.
func TestRouteBodyClasses(t *testing.T) {
	got := map[bodyClass][]string{}
	for _, rt := range (&Server{}).routes() {
		if c := rt.bodyClass(); c != smallBody {
			got[c] = append(got[c], rt.Method+" "+rt.Pattern)
		}
	}
	for c, want := range map[bodyClass][]string{
		uploadBody: {"POST /v1/clips", "PUT /v1/products/{id}/image"},
		tusBody:    {"PATCH /v1/uploads/{id}"},
	} {
		if !slices.Equal(got[c], want) {
			t.Errorf("class %d: got %q, want %q", c, got[c], want)
		}
	}
}
