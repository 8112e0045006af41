package storefront

import (
	"net/http"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/clientip"
)

// serveMetrics exposes the process's metrics (Server.Metrics) to scrapers
// on the same machine and to admins; to anyone else the route does not
// exist (OWASP API9: no operational inventory on the public listener). "The
// same machine" is clientip.Local: a loopback peer with no forwarding
// headers, or a trusted proxy naming a loopback client; a forwarding header
// from a peer not trusted never is.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if !clientip.Local(r) {
		if a := account(r); a == nil || a.Role != shopclip.RoleAdmin {
			return shopclip.Errorf(shopclip.ENOTFOUND, "No route for %s %s.", r.Method, r.URL.Path)
		}
	}
	w.Header().Del("Access-Control-Allow-Origin")
	s.Metrics.Handler().ServeHTTP(w, r)
	return nil
}
