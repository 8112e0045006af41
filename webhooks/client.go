package webhooks

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shopclip/shopclip"
)

// Limits of one delivery.
const (
	// DefaultTimeout bounds one delivery: connecting, sending, the answer.
	DefaultTimeout = 15 * time.Second
	// ExcerptSize is how much of an answer's body an attempt keeps.
	ExcerptSize = 1 << 10
	// MaxResponse is the most of an answer's body a delivery reads.
	MaxResponse = 64 << 10
)

// Resolver resolves host names; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ClientConfig tunes a Client. Zero values mean the defaults.
type ClientConfig struct {
	// AllowPrivate lets deliveries reach loopback, private and link-local
	// addresses (webhooks.allow_private; tests use it). Default false.
	AllowPrivate bool
	// Timeout bounds one delivery. Default DefaultTimeout.
	Timeout time.Duration
	// Resolver resolves destinations. Default net.DefaultResolver.
	Resolver Resolver
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Client sends deliveries over HTTP(S). Each delivery resolves its host once,
// refuses it unless every address is public (see Blocked), and connects to
// one of the addresses it checked: a name that resolves differently the next
// moment cannot steer the connection elsewhere. Redirects are not followed,
// connections are not reused, time and the answer read are bounded.
type Client struct {
	cfg  ClientConfig
	http *http.Client
}

// NewClient returns a Client.
func NewClient(cfg ClientConfig) *Client {
	cfg.Timeout = cmp.Or(cfg.Timeout, DefaultTimeout)
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg}
	dialer := &net.Dialer{
		Timeout: cfg.Timeout,
		// A second check on the address actually connected to.
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return refused(address, "not an address")
			}
			if !cfg.AllowPrivate && Blocked(ap.Addr()) {
				return refused(address, "not a public address")
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy: nil, // never through a proxy: it would resolve the name itself
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := c.resolve(ctx, host)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(ips[0].String(), port))
		},
		DisableKeepAlives:      true,
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		ForceAttemptHTTP2:      true,
	}
	c.http = &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c
}

// ErrRefused is what a delivery to a refused destination fails with.
var ErrRefused = errors.New("webhooks: destination refused")

func refused(dest, why string) error {
	return fmt.Errorf("%w: %s: %s", ErrRefused, dest, why)
}

// resolve returns the addresses of host, once, refusing it unless all are
// allowed.
func (c *Client) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = c.cfg.Resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("webhooks: resolve %q: %w", host, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("webhooks: resolve %q: no address", host)
		}
	}
	if !c.cfg.AllowPrivate {
		for _, ip := range ips {
			if Blocked(ip) {
				return nil, refused(host, ip.String()+" is not a public address")
			}
		}
	}
	return ips, nil
}

// special are ranges refused besides those netip names: this network,
// shared address space (carrier NAT), benchmarking, reserved, NAT64 (which
// reaches IPv4 addresses) and the IPv4 broadcast address.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"), // 6to4, which embeds an IPv4 address
}

// Blocked reports whether a delivery may not go to ip: loopback, private,
// link-local, unspecified, multicast and the special ranges above, in IPv4,
// IPv6 and IPv4-mapped IPv6 forms.
func Blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() {
		return true
	}
	for _, p := range special {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// CheckURL validates an endpoint URL when it is registered: http or https,
// a host, no user information, and, when the host is an address, an allowed
// one (names are checked at each delivery).
func (c *Client) CheckURL(raw string) error {
	return CheckURL(raw, c.cfg.AllowPrivate)
}

// CheckURL is Client.CheckURL for a given allow_private.
func CheckURL(raw string, allowPrivate bool) error {
	if len(raw) > 2048 {
		return shopclip.Errorf(shopclip.EINVALID, "The webhook URL is longer than 2048 bytes.")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return shopclip.Errorf(shopclip.EINVALID, "The webhook URL must be an absolute http or https URL.")
	}
	if u.User != nil {
		return shopclip.Errorf(shopclip.EINVALID, "The webhook URL may not hold user information.")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !allowPrivate && Blocked(ip) {
		return shopclip.Errorf(shopclip.EINVALID, "The webhook URL must reach a public address.")
	}
	return nil
}

// Message is one event as delivered.
type Message struct {
	ID        string // webhook-id: the same on every attempt
	Timestamp time.Time
	Body      []byte // {"type", "timestamp", "data"}
}

// Result is what one attempt saw.
type Result struct {
	Status  int           // the HTTP status; 0 when there was no answer
	Latency time.Duration // from sending to the end of the read answer
	Excerpt string        // the first ExcerptSize bytes of the answer
	Err     error         // no answer, or a refused destination
}

// OK reports whether the receiver took the message (a 2xx answer).
func (r Result) OK() bool { return r.Err == nil && r.Status >= 200 && r.Status < 300 }

// Send posts m to rawURL signed with secrets (newest first).
func (c *Client) Send(ctx context.Context, rawURL string, secrets []string, m Message) Result {
	if err := c.CheckURL(rawURL); err != nil {
		return Result{Err: refused(rawURL, shopclip.ErrorMessage(err))}
	}
	sig, err := Sign(secrets, m.ID, m.Timestamp, m.Body)
	if err != nil {
		return Result{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(m.Body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shopclip-webhooks/1")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(m.Timestamp.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	start := c.cfg.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{Latency: c.cfg.Now().Sub(start), Err: err}
	}
	defer resp.Body.Close()
	var excerpt bytes.Buffer
	_, err = io.Copy(io.Discard, io.TeeReader(io.LimitReader(resp.Body, MaxResponse), &limitedWriter{&excerpt, ExcerptSize}))
	r := Result{Status: resp.StatusCode, Latency: c.cfg.Now().Sub(start), Excerpt: cleanExcerpt(excerpt.Bytes())}
	if err != nil && r.OK() {
		r.Err = fmt.Errorf("webhooks: read answer: %w", err)
	}
	return r
}

// cleanExcerpt makes an excerpt storable text: valid UTF-8 (a cut rune
// dropped), no NUL bytes.
func cleanExcerpt(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), ""), "\x00", "")
}

// limitedWriter keeps the first n bytes written and drops the rest.
type limitedWriter struct {
	b *bytes.Buffer
	n int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if room := w.n - w.b.Len(); room > 0 {
		w.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
