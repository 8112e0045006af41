package storefront

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// health is the body of /healthz and /readyz.
type health struct {
	Status string            `json:"status"`           // ok or unavailable
	Checks map[string]string `json:"checks,omitempty"` // check name → ok or error
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, health{Status: "ok"})
}

// readyz runs every readiness check concurrently with a short timeout and
// answers 503 when any fails.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	results := make(map[string]string, len(s.Checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.Checks {
		wg.Go(func() {
			res := "ok"
			if err := c.Check(ctx); err != nil {
				// Details (hosts, ports) go to the log, not to anonymous callers.
				res = "error"
				s.logger().WarnContext(ctx, "readyz: check failed", "check", c.Name, "err", err)
			}
			mu.Lock()
			results[c.Name] = res
			mu.Unlock()
		})
	}
	wg.Wait()
	status, code := "ok", http.StatusOK
	for _, res := range results {
		if res != "ok" {
			status, code = "unavailable", http.StatusServiceUnavailable
		}
	}
	if code != http.StatusOK {
		w.Header().Set("Retry-After", "5")
	}
	return writeJSON(w, code, health{Status: status, Checks: results})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, account(r))
}
