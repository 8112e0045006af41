// Command ttfp is the client of scripts/bench-ttfp.sh: it uploads a clip
// to a running shopclip, learns that the clip is playable as the creator's
// studio does, from the server-sent events of GET /v1/clips/live (one
// connection opened before the first upload), and fetches what a player
// fetches first, on connections it keeps, as a player does. Measuring with a
// process per request (curl in a loop) cost each round a few hundred
// milliseconds of the machine's two cores and up to a poll interval, the
// benchmark's time rather than shopclip's.
//
// For each round it prints one line: the clip's ID, then the Unix times
// (seconds) the upload was sent, answered, seen playable and fetched, and
// when it was seen ready (0 with -ready=false, when the clip is deleted once
// fetched instead).
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/shopclip/shopclip/internal/clipform"
)

func main() {
	api := flag.String("api", "", "shopclip's base URL")
	in := flag.String("in", "", "the clip to upload")
	rounds := flag.Int("rounds", 5, "uploads, one after the other")
	ready := flag.Bool("ready", true, "wait until each clip is ready (false: delete it once fetched)")
	flag.Parse()
	key := os.Getenv("TTFP_KEY")
	if *api == "" || *in == "" || key == "" || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: TTFP_KEY=key ttfp -api URL -in FILE [-rounds N] [-ready=false]")
		os.Exit(2)
	}
	if err := run(*api, key, *in, *rounds, *ready, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ttfp:", err)
		os.Exit(1)
	}
}

// clip is what the client reads of a clip's JSON.
type clip struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Playback *struct {
		HLS string `json:"hls"`
	} `json:"playback"`
}

type client struct {
	base *url.URL
	key  string
	http *http.Client
}

func run(api, key, in string, rounds int, ready bool, out io.Writer) error {
	base, err := url.Parse(api)
	if err != nil {
		return err
	}
	c := &client{base: base, key: key, http: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clips, err := c.live(ctx)
	if err != nil {
		return err
	}
	for i := 1; i <= rounds; i++ {
		var r round
		if err := c.round(ctx, clips, in, i, ready, &r); err != nil {
			return fmt.Errorf("round %d: %w", i, err)
		}
		fmt.Fprintf(out, "%s %.6f %.6f %.6f %.6f %.6f\n", r.id, unix(r.sent), unix(r.answered), unix(r.playable), unix(r.fetched), unix(r.ready))
	}
	return nil
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMicro()) / 1e6
}

type round struct {
	id                                       string
	sent, answered, playable, fetched, ready time.Time
}

func (c *client) round(ctx context.Context, clips <-chan clip, in string, n int, waitReady bool, r *round) error {
	// Drop what the stream said before this upload (earlier rounds).
	for len(clips) > 0 {
		<-clips
	}
	r.sent = time.Now()
	id, err := c.upload(ctx, in, fmt.Sprintf("bench %d", n))
	if err != nil {
		return err
	}
	r.answered, r.id = time.Now(), id
	hls, err := await(ctx, clips, id, func(c clip) bool { return c.Playback != nil && c.Playback.HLS != "" })
	if err != nil {
		return err
	}
	r.playable = time.Now()
	if err := c.fetchStart(ctx, hls.Playback.HLS); err != nil {
		return err
	}
	r.fetched = time.Now()
	if !waitReady {
		// Deleted: its transcode stops at its next progress report; the
		// pause keeps that out of the next round.
		if err := c.delete(ctx, "/v1/clips/"+id); err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		return nil
	}
	if _, err := await(ctx, clips, id, func(c clip) bool { return c.Status == "ready" }); err != nil {
		return err
	}
	r.ready = time.Now()
	return nil
}

// await reads the stream's clips until clip id satisfies ok; a failed clip
// is an error.
func await(ctx context.Context, clips <-chan clip, id string, ok func(clip) bool) (clip, error) {
	timeout := time.After(10 * time.Minute)
	for {
		select {
		case c, open := <-clips:
			if !open {
				return clip{}, errors.New("the live stream ended")
			}
			if c.ID != id {
				continue
			}
			if ok(c) {
				return c, nil
			}
			if c.Status == "failed" {
				return clip{}, fmt.Errorf("clip %s failed", id)
			}
		case <-timeout:
			return clip{}, fmt.Errorf("clip %s: nothing after 10 minutes", id)
		case <-ctx.Done():
			return clip{}, ctx.Err()
		}
	}
}

// live opens GET /v1/clips/live and returns the clips of its "clip"
// events as they arrive.
func (c *client) live(ctx context.Context) (<-chan clip, error) {
	req, err := c.request(ctx, http.MethodGet, "/v1/clips/live", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("GET /v1/clips/live: %s: %s", resp.Status, b)
	}
	clips := make(chan clip, 1024)
	go func() {
		defer close(clips)
		defer resp.Body.Close()
		_ = readEvents(resp.Body, func(event, data string) {
			var cl clip
			if event == "clip" && json.Unmarshal([]byte(data), &cl) == nil {
				clips <- cl
			}
		})
	}()
	return clips, nil
}

// readEvents calls each with every event of a server-sent event stream
// (its type, "message" when unnamed, and its data lines joined by "\n")
// until the stream ends.
func readEvents(r io.Reader, each func(event, data string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	event, data, has := "", []string(nil), false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if has {
				each(cmp.Or(event, "message"), strings.Join(data, "\n"))
			}
			event, data, has = "", nil, false
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			event = value
		case "data":
			data, has = append(data, value), true
		}
	}
	return sc.Err()
}

// upload sends the file as POST /v1/clips does it (multipart, streamed)
// and returns the new clip's ID.
func (c *client) upload(ctx context.Context, in, title string) (string, error) {
	f, err := os.Open(in)
	if err != nil {
		return "", err
	}
	defer f.Close()
	body, contentType := clipform.New(f, path.Base(in), title)
	req, err := c.request(ctx, http.MethodPost, "/v1/clips", body)
	if err != nil {
		body.Close()
		return "", err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var cl clip
	if resp.StatusCode/100 != 2 || json.Unmarshal(b, &cl) != nil || cl.ID == "" {
		return "", fmt.Errorf("upload refused: %s: %s", resp.Status, b)
	}
	return cl.ID, nil
}

var (
	mapURI   = regexp.MustCompile(`#EXT-X-MAP:URI="([^"]+)"`)
	audioURI = regexp.MustCompile(`TYPE=AUDIO[^\n]*URI="([^"]+)"`)
)

// fetchStart fetches what a player needs to start: the master, the first
// variant's playlist and the audio's (side by side, on two connections),
// then each one's init segment and first media segment.
func (c *client) fetchStart(ctx context.Context, master string) error {
	mu, err := c.base.Parse(master)
	if err != nil {
		return err
	}
	body, err := c.get(ctx, mu)
	if err != nil {
		return err
	}
	variant := firstURI(body)
	if variant == "" {
		return fmt.Errorf("the master lists no variant:\n%s", body)
	}
	playlists := []string{variant}
	if m := audioURI.FindStringSubmatch(body); m != nil {
		playlists = append(playlists, m[1])
	}
	media := make([][2]*url.URL, len(playlists)) // each playlist's init and first segment
	g, gctx := errgroup.WithContext(ctx)
	for i, p := range playlists {
		g.Go(func() error {
			pu, err := mu.Parse(p)
			if err != nil {
				return err
			}
			b, err := c.get(gctx, pu)
			if err != nil {
				return err
			}
			m, seg := mapURI.FindStringSubmatch(b), firstURI(b)
			if m == nil || seg == "" {
				return fmt.Errorf("%s names no init segment or no segment:\n%s", p, b)
			}
			for j, ref := range []string{m[1], seg} {
				if media[i][j], err = pu.Parse(ref); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	for _, pair := range media {
		for _, u := range pair {
			g.Go(func() error {
				_, err := c.get(gctx, u)
				return err
			})
		}
	}
	return g.Wait()
}

// firstURI returns the first line of a playlist that is neither a tag nor
// blank.
func firstURI(playlist string) string {
	for line := range strings.SplitSeq(playlist, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return ""
}

func (c *client) request(ctx context.Context, method, p string, body io.Reader) (*http.Request, error) {
	u, err := c.base.Parse(p)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	return req, nil
}

// get fetches u (the clip is still processing: its media are its
// creator's, with the key) and returns its body.
func (c *client) get(ctx context.Context, u *url.URL) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", u.Path, resp.Status)
	}
	return string(b), nil
}

func (c *client) delete(ctx context.Context, p string) error {
	req, err := c.request(ctx, http.MethodDelete, p, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("DELETE %s: %s", p, resp.Status)
	}
	return nil
}
