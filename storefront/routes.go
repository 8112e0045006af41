package storefront

import (
	"net/http"
	"slices"
	"strings"

	"github.com/shopclip/shopclip"
)

// route is one API route and who may call it.
type route struct {
	Method  string
	Pattern string
	// Roles admitted; nil means anyone, viewers without a key included.
	// Admins are admitted to every route.
	Roles  []shopclip.Role
	Handle func(s *Server, w http.ResponseWriter, r *http.Request) error
	// Doc is a one-line description, for the route listing.
	Doc string
}

// Public reports whether viewers without a key may call the route.
func (rt route) Public() bool { return rt.Roles == nil }

// Admits reports whether an account with role may call the route.
func (rt route) Admits(role shopclip.Role) bool {
	return rt.Public() || role == shopclip.RoleAdmin || slices.Contains(rt.Roles, role)
}

func (rt route) roleList() string {
	var names []string
	for _, r := range rt.Roles {
		names = append(names, string(r))
	}
	return strings.Join(names, " or ")
}

var (
	anyone   []shopclip.Role
	creators = []shopclip.Role{shopclip.RoleCreator}
	brands   = []shopclip.Role{shopclip.RoleBrand}
	members  = []shopclip.Role{shopclip.RoleCreator, shopclip.RoleBrand}
)

// Route describes an API route for documentation and tests.
type Route struct {
	Method, Pattern, Doc string
	Roles                []shopclip.Role // nil: public
}

// Routes lists every API route.
func (s *Server) Routes() []Route {
	var out []Route
	for _, rt := range s.routes() {
		out = append(out, Route{rt.Method, rt.Pattern, rt.Doc, rt.Roles})
	}
	return out
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", anyone, (*Server).healthz, "liveness"},
		{"GET", "/readyz", anyone, (*Server).readyz, "readiness: database, blob store and Redis reachable"},
		{"GET", "/metrics", anyone, (*Server).serveMetrics, "Prometheus metrics"},

		{"GET", "/v1/me", members, (*Server).me, "the caller's account"},

		{"POST", "/v1/clips", creators, (*Server).createClip, "upload a clip (multipart: file, title)"},
		{"GET", "/v1/clips", creators, (*Server).listMyClips, "the caller's clips, any status"},
		{"GET", "/v1/clips/{id}", anyone, (*Server).getClip, "a clip (ready ones to everyone, any status to its creator)"},
		{"DELETE", "/v1/clips/{id}", creators, (*Server).deleteClip, "delete a clip (its creator)"},
		{"GET", "/v1/clips/{id}/media/{gen}/{file...}", anyone, (*Server).serveMedia, "HLS playlists, segments, poster and MP4"},
		{"GET", "/v1/clips/{id}/share/{file}", anyone, (*Server).serveShare, "the share MP4 with the pop-ups burned in"},
		{"GET", "/v1/clips/{id}/popups", anyone, (*Server).popups, "the pop-ups live now"},
		{"GET", "/v1/clips/{id}/overlays.vtt", anyone, (*Server).overlaysVTT, "the pop-up timeline as WebVTT metadata"},
		{"GET", "/v1/feed", anyone, (*Server).feed, "ready clips, newest first (cursor pagination)"},

		{"POST", "/v1/products", brands, (*Server).createProduct, "add a product to the caller's catalog"},
		{"GET", "/v1/products", brands, (*Server).listProducts, "the caller's catalog"},
		{"GET", "/v1/products/{id}", brands, (*Server).getProduct, "a product (its brand)"},
		{"PATCH", "/v1/products/{id}", brands, (*Server).patchProduct, "change a product (its brand); re-labels its clips"},
		{"POST", "/v1/products/{id}/discounts", brands, (*Server).createDiscount, "add a discount (its brand); re-labels its clips"},
		{"GET", "/v1/products/{id}/discounts", brands, (*Server).listDiscounts, "a product's discounts (its brand)"},

		{"POST", "/v1/clips/{id}/tags", brands, (*Server).createTag, "tag a product into a clip"},
		{"GET", "/v1/clips/{id}/tags", members, (*Server).listTags, "a clip's tags (all to its creator, own to a brand)"},
		{"POST", "/v1/clips/{id}/tags/{tag_id}/approve", creators, (*Server).approveTag, "approve a tag (the clip's creator)"},
		{"POST", "/v1/clips/{id}/tags/{tag_id}/reject", creators, (*Server).rejectTag, "reject a tag (the clip's creator)"},
		{"GET", "/v1/buy/{tag_id}", anyone, (*Server).buy, "302 to the product's store; counts the click (?session= for attribution)"},

		{"GET", "/v1/me/approved-brands", creators, (*Server).listApprovedBrands, "brands the caller approved for good"},
		{"POST", "/v1/me/approved-brands", creators, (*Server).approveBrand, "approve a brand for good: its future tags are active at once"},
		{"DELETE", "/v1/me/approved-brands/{brand_id}", creators, (*Server).revokeBrand, "withdraw a standing approval"},

		{"POST", "/v1/events", anyone, (*Server).postEvent, "a viewer's view, impression or click; a brand's purchase (brand key)"},
		{"GET", "/v1/clips/{id}/stats", members, (*Server).clipStats, "a clip's funnel: all tags to its creator, its own to each brand"},
		{"GET", "/v1/products/{id}/stats", brands, (*Server).productStats, "a product's funnel per tag (its brand)"},
	}
}
