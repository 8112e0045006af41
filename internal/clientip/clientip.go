// Package clientip tells who a request came from, in one place: the
// connection's peer, or — only when that peer is one of the configured
// trusted proxies — the right-most address of X-Forwarded-For that is not
// itself a trusted proxy. Rate limits, sign-in throttling, logs and the
// privacy of /metrics all ask it, so a spoofed X-Forwarded-For from an
// untrusted peer changes nothing anywhere.
//
// The Resolver's Handler reads the addresses once per request and keeps
// them in its context; without it (a handler served on its own, in tests)
// Of and Local fall back to the peer, as if no proxy were trusted.
package clientip

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver resolves client addresses behind the trusted proxies.
type Resolver struct {
	// Trusted are the proxies whose X-Forwarded-For is believed: the
	// addresses a deployment's own reverse proxies or load balancers
	// connect from, never its clients' networks.
	Trusted []netip.Prefix
}

// ParsePrefixes parses trusted proxies as CIDRs (10.0.0.0/8, fd00::/8) or
// single addresses (127.0.0.1, ::1).
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%q: want an IP address or a CIDR such as 10.0.0.0/8", s)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q: want an IP address or a CIDR such as 10.0.0.0/8", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trusts reports whether a is one of the trusted proxies.
func (rs *Resolver) trusts(a netip.Addr) bool {
	for _, p := range rs.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Info is what is known of a request's origin.
type Info struct {
	// Peer is the address of the connection's other end.
	Peer netip.Addr
	// Client is the client's address: Peer, or the address a trusted
	// proxy reported in X-Forwarded-For.
	Client netip.Addr
	// Forwarded reports that Client came from X-Forwarded-For.
	Forwarded bool
	// Proxy reports that Peer is one of the trusted proxies: the headers
	// it adds (X-Forwarded-For, X-Request-Id) are believed.
	Proxy bool
	// Unread reports forwarding headers that were present but not
	// believed: any from an untrusted peer, Forwarded or X-Real-IP
	// (which are not read) from a trusted one that sent no
	// X-Forwarded-For, and an X-Forwarded-For with a malformed hop.
	Unread bool
}

// Resolve works out r's Info.
func (rs *Resolver) Resolve(r *http.Request) Info {
	in := Info{Peer: peer(r)}
	in.Client = in.Peer
	xff := r.Header.Values("X-Forwarded-For")
	other := r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != ""
	if !in.Peer.IsValid() || !rs.trusts(in.Peer) {
		in.Unread = len(xff) > 0 || other
		return in
	}
	in.Proxy = true
	if len(xff) == 0 {
		in.Unread = other
		return in
	}
	// Walk from the right: each hop was written by the one after it,
	// so the right-most address not of a trusted proxy is the client's.
	// Several header lines are one list, in order.
	hops := strings.Split(strings.Join(xff, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			// A malformed hop: the last good one stands, but what
			// lies beyond it is not known.
			in.Unread = true
			break
		}
		in.Client, in.Forwarded = a, true
		if !rs.trusts(a) {
			break
		}
	}
	return in
}

// parseHop parses one X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

type ctxKey struct{}

// Handler resolves each request's origin once and passes it to next in
// the request's context, for Of and Local.
func (rs *Resolver) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := rs.Resolve(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, in)))
	})
}

// From returns r's Info: the one Handler resolved, or, without it, the
// peer's with no proxy trusted.
func From(r *http.Request) Info {
	if in, ok := r.Context().Value(ctxKey{}).(Info); ok {
		return in
	}
	var none Resolver
	return none.Resolve(r)
}

// Of returns r's client address (invalid when RemoteAddr is not an
// address, as in some tests).
func Of(r *http.Request) netip.Addr { return From(r).Client }

// Local reports whether r came from this machine: its client is a
// loopback address and no forwarding header went unread. Directly from
// a loopback peer with no forwarding headers it is local; through a
// trusted proxy on this machine only when X-Forwarded-For names a
// loopback client (the proxy's own health checks); a forwarding header
// from an untrusted peer — a proxy not configured as trusted, or a
// client's spoof — never is.
func Local(r *http.Request) bool {
	in := From(r)
	return in.Client.IsLoopback() && !in.Unread
}
