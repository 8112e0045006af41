package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"

	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/internal/clientip"
	"github.com/shopclip/shopclip/internal/logctx"
	"github.com/shopclip/shopclip/storefront"
)

// listen opens the API's listener, holding at most http.max_connections
// connections open: past that, new ones wait in the kernel's backlog until
// one closes (a flood of slow clients cannot use up the process's file
// descriptors).
func listen(cfg configs.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if n := cfg.HTTP.MaxConnections; n > 0 {
		ln = netutil.LimitListener(ln, n)
	}
	return ln, nil
}

// apiTimeouts are the storefront's per-route deadlines from the http
// section.
func apiTimeouts(h configs.HTTP) storefront.Timeouts {
	return storefront.Timeouts{Body: h.BodyTimeout, IdleRead: h.IdleReadTimeout, IdleWrite: h.IdleWriteTimeout}
}

// newHTTPServer is the API's http.Server around handler: client addresses
// resolved behind the trusted proxies (clientip) for everything below it,
// and deadlines for slow clients. The storefront's routes set their own
// per request (storefront.Timeouts: a small body whole, an upload's next
// bytes, each write of a response); the server's cover the headers, the
// keep-alive wait and every other request (the web pages): reading it
// whole within read_header_timeout + body_timeout, answering it within
// idle_write_timeout.
func newHTTPServer(h configs.HTTP, handler http.Handler, log *slog.Logger, base context.Context) *http.Server {
	rs := &clientip.Resolver{Trusted: h.Proxies()}
	header := orDefault(h.ReadHeaderTimeout, 10*time.Second)
	return &http.Server{
		Handler:           rs.Handler(logctx.Requests(handler)),
		ReadHeaderTimeout: header,
		ReadTimeout:       header + orDefault(h.BodyTimeout, 30*time.Second),
		WriteTimeout:      orDefault(h.IdleWriteTimeout, time.Minute),
		IdleTimeout:       orDefault(h.IdleTimeout, 2*time.Minute),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
}

// orDefault is d, or def when d is not set (a Config not from configs.Load).
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
