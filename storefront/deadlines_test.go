package storefront

import (
	"slices"
	"testing"
)

// TestRouteBodyClasses: the routes that take a file's bytes read them with
// an idle deadline; every other body must arrive whole in time.
func TestRouteBodyClasses(t *testing.T) {
	var got []string
	for _, rt := range (&Server{}).routes() {
		if rt.bodyClass() == uploadBody {
			got = append(got, rt.Method+" "+rt.Pattern)
		}
	}
	want := []string{"POST /v1/clips", "PATCH /v1/uploads/{id}", "PUT /v1/products/{id}/image"}
	if !slices.Equal(got, want) {
		t.Errorf("upload routes: got %q, want %q", got, want)
	}
}
