package storefront

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/ratelimit"
)

// limit refuses r with 429 and Retry-After when its client is over l.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, l *ratelimit.Limiter) error {
	ok, wait := l.Allow(ratelimit.ClientAddr(r))
	if ok {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
	return shopclip.Errorf(shopclip.ERATELIMITED, "Too many requests from this address; retry in a moment.")
}
