package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/shopclip/shopclip"
)

// Backoff between attempts to reach a service at startup: 0.5 s, doubling
// up to 10 s.
const (
	startupFirstRetry = 500 * time.Millisecond
	startupMaxRetry   = 10 * time.Second
)

// startup waits for the services a process needs (PostgreSQL, Redis, the
// object store) when they are down as it starts: under a supervisor, or
// when the services start beside it, a process that exits at once only
// crash-loops. One startup shares one deadline (startup_timeout).
type startup struct {
	timeout  time.Duration // 0: no bound
	deadline time.Time     // zero when timeout is 0
	log      *slog.Logger
}

func newStartup(timeout time.Duration, log *slog.Logger) *startup {
	s := &startup{timeout: timeout, log: log}
	if timeout > 0 {
		s.deadline = time.Now().Add(timeout)
	}
	return s
}

// errStopped marks a startup ended by its context (SIGINT, SIGTERM) while it
// waited for a service.
var errStopped = errors.New("stopped while waiting")

// wait calls connect until it succeeds and returns nil. It returns
// connect's error at once when waiting cannot mend it (a malformed URL,
// bad credentials, a bucket that cannot be created: see unreachable); it
// retries the others with capped exponential backoff, logging each failed
// attempt with the service's name and address (addr must hold no secret),
// until the startup deadline passes or ctx ends.
func (s *startup) wait(ctx context.Context, service, addr string, connect func(context.Context) error) error {
	start := time.Now()
	var last error
	for delay, attempt := startupFirstRetry, 1; ; delay, attempt = min(2*delay, startupMaxRetry), attempt+1 {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if !s.deadline.IsZero() {
			actx, cancel = context.WithDeadline(ctx, s.deadline)
		}
		err := connect(actx)
		cutShort := actx.Err() != nil // by the startup deadline or ctx
		cancel()
		if err == nil {
			if attempt > 1 {
				s.log.Info("startup: "+service+" is reachable", "service", service, "addr", addr, "waited", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w for %s at %s", errStopped, service, addr)
		}
		if !unreachable(err) {
			return fmt.Errorf("%s at %s: %w", service, addr, err)
		}
		if last == nil || !cutShort {
			last = err // the deadline's own error says less than the one before
		}
		wait := delay
		if !s.deadline.IsZero() {
			left := time.Until(s.deadline)
			if left <= 0 {
				return fmt.Errorf("%s at %s still unreachable after %s (startup_timeout, SHOPCLIP_STARTUP_TIMEOUT): %w",
					service, addr, s.timeout, last)
			}
			wait = min(wait, left.Round(time.Millisecond))
		}
		s.log.Warn("startup: waiting for "+service, "service", service, "addr", addr, "err", err,
			"attempt", attempt, "retry_in", wait, "waited", time.Since(start).Round(time.Millisecond), "startup_timeout", s.timeoutText())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w for %s at %s", errStopped, service, addr)
		case <-t.C:
		}
	}
}

func (s *startup) timeoutText() string {
	if s.timeout == 0 {
		return "none"
	}
	return s.timeout.String()
}

// unreachable reports whether err says a service cannot be reached yet
// (refused, reset, timed out, its name not found, still starting), which
// waiting may mend, rather than that it is misconfigured (a certificate
// refused, credentials refused, a missing database, a malformed URL), which
// it never will. An answer from the server decides over network errors
// beside it (pgx joins the errors of every address a name resolves to).
func unreachable(err error) bool {
	var (
		verify  *tls.CertificateVerificationError
		alert   tls.AlertError
		record  tls.RecordHeaderError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		pgErr   *pgconn.PgError
		rerr    redis.Error
		op      *net.OpError
		dns     *net.DNSError
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &alert), errors.As(err, &record),
		errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid):
		return false
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // shutting down, crashed, starting up
			"53300": // too many connections
			return true
		}
		return false // bad password, no such database or role, no privilege…
	case errors.As(err, &rerr):
		// Redis answered: only "still loading its data set" passes.
		return strings.HasPrefix(rerr.Error(), "LOADING ")
	case errors.As(err, &op):
		return op.Op != "remote error" // a TLS alert from the server
	case errors.As(err, &dns),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	// The blob adapter codes an S3 server that answers but cannot serve
	// yet (503, MinIO not initialised) EUNAVAILABLE.
	return shopclip.ErrorCode(err) == shopclip.EUNAVAILABLE
}

// redactURL is a service URL fit for logs: a password in it, in the user
// part or the query, is replaced by "xxxxx".
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Unparsable: hide whatever stands before the host.
		if i, j := strings.Index(s, "://"), strings.LastIndex(s, "@"); i >= 0 && j > i {
			return s[:i+3] + "xxxxx" + s[j:]
		}
		return s
	}
	if q := u.Query(); strings.Contains(strings.ToLower(u.RawQuery), "password") {
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// s3Address names an S3 bucket for logs.
func s3Address(endpoint, bucket string, useSSL bool) string {
	scheme := "http://"
	if useSSL {
		scheme = "https://"
	}
	return scheme + endpoint + "/" + bucket
}
