package upload

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Client uploads files to a shopclip server with the tus protocol, resuming
// where the server stopped after a dropped connection.
type Client struct {
	// Server is the server's base URL ("http://127.0.0.1:8080").
	Server string
	// Key is an API key of a creator account.
	Key  string
	HTTP *http.Client
	// Retries is how many times a dropped PATCH is resumed before Send
	// gives up. Default 5; negative: none.
	Retries int
	// Progress, when set, is told how many bytes the server has, as they
	// go.
	Progress func(sent, total int64)
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Error is a refusal from the server: its status, and the API's error
// code and message when it sent them.
type Error struct {
	Status        int
	Code, Message string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("the server answered %d %s", e.Status, http.StatusText(e.Status))
}

// Temporary reports whether sending again later may succeed.
func (e *Error) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusConflict
}

func (c *Client) request(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	return req, nil
}

// Create starts an upload of size bytes with metadata (filename, filetype,
// title) and returns its URL.
func (c *Client) Create(ctx context.Context, size int64, meta map[string]string) (string, error) {
	req, err := c.request(ctx, http.MethodPost, strings.TrimSuffix(c.Server, "/")+"/v1/uploads/", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", EncodeMetadata(meta))
	resp, err := c.http().Do(req)
	if err != nil {
		return "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusCreated {
		return "", refusal(resp)
	}
	loc, err := req.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return "", fmt.Errorf("upload: the server gave no usable Location (%q)", resp.Header.Get("Location"))
	}
	return loc.String(), nil
}

// Offset asks how much of the upload at location the server has, and the
// clip it made once it has all of it.
func (c *Client) Offset(ctx context.Context, location string) (offset int64, clipID string, err error) {
	req, err := c.request(ctx, http.MethodHead, location, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return 0, "", refusal(resp)
	}
	offset, err = strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("upload: bad Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return offset, resp.Header.Get(ClipIDHeader), nil
}

// Send sends the bytes of src (size bytes in all) from where the server
// stopped, resuming after dropped connections, and returns the clip the
// finished upload made.
func (c *Client) Send(ctx context.Context, location string, src io.ReadSeeker, size int64) (string, error) {
	retries := c.Retries
	if retries == 0 {
		retries = 5
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		offset, clipID, err := c.Offset(ctx, location)
		if err == nil {
			if clipID != "" {
				c.progress(size, size)
				return clipID, nil
			}
			clipID, err = c.patch(ctx, location, src, offset, size)
			if err == nil {
				return clipID, nil
			}
		}
		var refused *Error
		if ctx.Err() != nil || errors.As(err, &refused) && (!refused.Temporary() || refused.RetryAfter > maxRetryAfter) {
			return "", err // a refusal for good, or for longer than a wait (a daily quota)
		}
		lastErr = err
		if attempt >= retries {
			return "", fmt.Errorf("upload: gave up after %d attempts: %w", attempt+1, lastErr)
		}
		wait := backoff(attempt)
		if refused != nil {
			wait = max(wait, refused.RetryAfter) // the server is busy: as long as it asks
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
	}
}

// maxRetryAfter is the longest Retry-After Send waits out.
const maxRetryAfter = time.Minute

func backoff(attempt int) time.Duration {
	return min(time.Duration(1<<attempt)*250*time.Millisecond, 10*time.Second)
}

// patch sends src from offset to its end in one request.
func (c *Client) patch(ctx context.Context, location string, src io.ReadSeeker, offset, size int64) (string, error) {
	if _, err := src.Seek(offset, io.SeekStart); err != nil {
		return "", err
	}
	body := &progressReader{r: io.LimitReader(src, size-offset), n: offset, total: size, report: c.progress}
	req, err := c.request(ctx, http.MethodPatch, location, body)
	if err != nil {
		return "", err
	}
	req.ContentLength = size - offset
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	resp, err := c.http().Do(req)
	if err != nil {
		return "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusNoContent {
		return "", refusal(resp)
	}
	clipID := resp.Header.Get(ClipIDHeader)
	if clipID == "" {
		return "", fmt.Errorf("upload: the server has %s of %d bytes and made no clip", resp.Header.Get("Upload-Offset"), size)
	}
	c.progress(size, size)
	return clipID, nil
}

// Cancel deletes the upload at location.
func (c *Client) Cancel(ctx context.Context, location string) error {
	req, err := c.request(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusNoContent {
		return refusal(resp)
	}
	return nil
}

func (c *Client) progress(sent, total int64) {
	if c.Progress != nil {
		c.Progress(sent, total)
	}
}

type progressReader struct {
	r        io.Reader
	n, total int64
	report   func(sent, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	p.report(p.n, p.total)
	return n, err
}

// refusal reads an error response.
func refusal(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	} else if s := strings.TrimSpace(string(b)); s != "" && resp.Request.Method != http.MethodHead {
		e.Message = fmt.Sprintf("%s (%d)", s, resp.StatusCode)
	}
	return e
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// EncodeMetadata writes tus Upload-Metadata: "key base64(value)" pairs,
// sorted by key.
func EncodeMetadata(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(meta[k])))
	}
	return strings.Join(parts, ",")
}

// ClipURL returns the server's watch page of clip id.
func ClipURL(server, id string) string {
	return strings.TrimSuffix(server, "/") + "/watch/" + url.PathEscape(id)
}
