package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shopclip/shopclip/internal/clipform"
)

// Media is one file of the upload mix and what should become of it.
type Media struct {
	Name string
	// Expect is the media error code the clip must fail with, or "" when
	// it must become ready.
	Expect string
	Weight int
	Big    bool
}

// DefaultMix is the upload mix: mostly small good clips, some broken ones
// (with the outcome transcode/ffmpeg's sweep test expects of each), now and
// then a bigger one. The names are files of ../shared/media (MANIFEST.md).
var DefaultMix = []Media{
	{Name: "h264_noaudio_480x270_koala.mp4", Weight: 14},
	{Name: "vp9_odd_161x121_noaudio_bear.webm", Weight: 10},
	{Name: "av1_1080x720_aac.mp4", Weight: 8},
	{Name: "iphone_h264_aac_568x320_rotm90_gps.mov", Weight: 10},
	{Name: "ts_h264_aac_640x360_hls_segment.ts", Weight: 10},
	{Name: "mkv_h264_ac3_srt_1080x720.mkv", Weight: 8},
	{Name: "3gp_h263_aac_352x288_desks.3gp", Weight: 6},
	{Name: "broken_vp9_invalid_bitstream.webm", Expect: "media_decode", Weight: 5},
	{Name: "broken_moov_not_found_malformed_free_box.mp4", Expect: "media_unreadable", Weight: 5},
	{Name: "broken_fuzz_mvhd_timescale0.mp4", Expect: "media_no_video", Weight: 4},
	{Name: "audio_only_opus_5.1.mka", Expect: "media_no_video", Weight: 4},
	{Name: "h264_mp3_640x360_chaplin.mp4", Weight: 3, Big: true},
	{Name: "gopro_h264_aac_854x480_gpmf_karma.mp4", Weight: 3, Big: true},
}

func pick(mix []Media, rng *rand.Rand) Media {
	total := 0
	for _, m := range mix {
		total += m.Weight
	}
	n := rng.IntN(total)
	for _, m := range mix {
		if n < m.Weight {
			return m
		}
		n -= m.Weight
	}
	return mix[len(mix)-1]
}

// api talks to shopclip serve.
type api struct {
	base string
	hc   *http.Client
}

// call makes one request; body is JSON unless it is an io.Reader (then ct
// names its type). It returns the status (0 when no answer came) and the
// answer's body.
func (a *api) call(ctx context.Context, key, method, path string, body any, ct string) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		js, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// load is the drill's client side: a steady stream of uploads, the
// polling of their clips, and tag, price and discount changes, every
// request and its answer written to the ledger.
type load struct {
	api            *api
	creator, brand string
	mediaDir       string
	mix            []Media
	rng            *rand.Rand
	rngMu          sync.Mutex
	ledger         *Ledger
	start          time.Time
	logf           func(string, ...any)

	uploadEvery time.Duration
	maxTagged   int
}

func (l *load) rand(n int) int {
	l.rngMu.Lock()
	defer l.rngMu.Unlock()
	return l.rng.IntN(n)
}

// run generates load until ctx ends.
func (l *load) run(ctx context.Context, products []string) {
	var wg sync.WaitGroup
	wg.Go(func() { l.uploads(ctx) })
	wg.Go(func() { l.catalog(ctx, products) })
	wg.Wait()
}

func (l *load) uploads(ctx context.Context) {
	t := time.NewTicker(l.uploadEvery)
	defer t.Stop()
	for n := 1; ; n++ {
		l.rngMu.Lock()
		m := pick(l.mix, l.rng)
		l.rngMu.Unlock()
		l.upload(ctx, n, m)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// upload posts one file as a clip and records the answer.
func (l *load) upload(ctx context.Context, n int, m Media) {
	f, err := os.Open(filepath.Join(l.mediaDir, m.Name))
	if err != nil {
		l.logf("chaos: %v", err)
		return
	}
	defer f.Close()
	// The request may end before its body is read (a refusal, a dropped
	// connection): the body is closed then, and the copy stops.
	form, contentType := clipform.New(f, m.Name, fmt.Sprintf("chaos %d %s", n, m.Name))
	u := &Upload{N: n, File: m.Name, Expect: m.Expect, Big: m.Big, Sent: time.Now()}
	// The upload is not cut by the end of the load phase: its answer is
	// part of the ledger.
	status, body, err := l.api.call(context.WithoutCancel(ctx), l.creator, "POST", "/v1/clips", form, contentType)
	u.Answered = time.Now()
	u.Status = status
	if err != nil {
		u.Err = err.Error()
	}
	var c struct {
		ID    string `json:"id"`
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
		Code string `json:"code"`
	}
	json.Unmarshal(body, &c)
	if status == http.StatusAccepted {
		u.ClipID = c.ID
	} else {
		u.Code = c.Code
		if c.Error != nil {
			u.Code = c.Error.Code
		}
		if u.Err == "" {
			u.Err = strings.TrimSpace(string(body))
		}
	}
	l.ledger.addUpload(u)
}

// clipView is a clip as the API shows it to its creator.
type clipView struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Playback struct {
		HLS string `json:"hls"`
	} `json:"playback"`
	DurationMS int64 `json:"duration_ms"`
}

// poll watches the clips of accepted uploads until each is seen terminal,
// recording the first time each is seen ready and the generation it
// showed then, until ctx ends.
func (l *load) poll(ctx context.Context) {
	for {
		for _, u := range l.ledger.pending() {
			status, body, err := l.api.call(ctx, l.creator, "GET", "/v1/clips/"+u.ClipID, nil, "")
			if err != nil || status != 200 {
				continue
			}
			var c clipView
			if json.Unmarshal(body, &c) != nil {
				continue
			}
			l.ledger.observe(u.ClipID, c.Status, generationOf(c.Playback.HLS), c.DurationMS, time.Now())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// generationOf returns the generation in a playback path
// /v1/clips/{id}/media/{gen}/master.m3u8.
func generationOf(hls string) string {
	_, rest, ok := strings.Cut(hls, "/media/")
	if !ok {
		return ""
	}
	gen, _, _ := strings.Cut(rest, "/")
	return gen
}

// catalog tags products into ready clips (the brand proposes, the creator
// approves), changes prices and adds discounts, until ctx ends.
func (l *load) catalog(ctx context.Context, products []string) {
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		switch {
		case i%3 == 0:
			l.tagOne(ctx, products)
		case i%7 == 5:
			l.discount(ctx, products[l.rand(len(products))])
		default:
			l.price(ctx, products[l.rand(len(products))])
		}
	}
}

func (l *load) tagOne(ctx context.Context, products []string) {
	clip, dur := l.ledger.untaggedReady(l.maxTagged)
	if clip == "" {
		return
	}
	product := products[l.rand(len(products))]
	op := &TagOp{Clip: clip, Product: product, Sent: time.Now()}
	end := min(dur, 1000)
	status, body, err := l.api.call(ctx, l.brand, "POST", "/v1/clips/"+clip+"/tags",
		map[string]any{"product_id": product, "start_ms": 0, "end_ms": end, "x": 0.5, "y": 0.5}, "")
	op.ProposeStatus = status
	if err != nil {
		op.Err = err.Error()
	}
	var tag struct {
		ID string `json:"id"`
	}
	json.Unmarshal(body, &tag)
	op.Tag = tag.ID
	if status == http.StatusAccepted && tag.ID != "" {
		status, body, err = l.api.call(ctx, l.creator, "POST", "/v1/clips/"+clip+"/tags/"+tag.ID+"/approve", nil, "")
		op.ApproveStatus = status
		if err != nil {
			op.Err = err.Error()
		} else if status != http.StatusOK {
			op.Err = strings.TrimSpace(string(body))
		}
	} else if err == nil {
		op.Err = strings.TrimSpace(string(body))
	}
	l.ledger.addTag(op)
}

func (l *load) price(ctx context.Context, product string) {
	op := &PriceOp{Product: product, Price: int64(1000 + 10*l.rand(900)), Sent: time.Now()}
	status, body, err := l.api.call(ctx, l.brand, "PATCH", "/v1/products/"+product, map[string]any{"price_minor": op.Price}, "")
	op.Status = status
	if err != nil {
		op.Err = err.Error()
	} else if status != http.StatusOK {
		op.Err = strings.TrimSpace(string(body))
	}
	l.ledger.addPrice(op)
}

func (l *load) discount(ctx context.Context, product string) {
	now := time.Now().UTC()
	op := &DiscountOp{Product: product, Sent: now}
	status, body, err := l.api.call(ctx, l.brand, "POST", "/v1/products/"+product+"/discounts", map[string]any{
		"kind": "percent", "percent_off": 10 + 5*l.rand(4),
		"starts_at": now.Add(-time.Minute).Format(time.RFC3339), "ends_at": now.Add(time.Hour).Format(time.RFC3339)}, "")
	op.Status = status
	var d struct {
		ID string `json:"id"`
	}
	json.Unmarshal(body, &d)
	op.ID = d.ID
	if err != nil {
		op.Err = err.Error()
	} else if status != http.StatusCreated {
		op.Err = strings.TrimSpace(string(body))
	}
	l.ledger.addDiscount(op)
}

// createProducts makes the brand's products, retrying while the system
// comes up.
func (l *load) createProducts(ctx context.Context, n int) ([]string, error) {
	var ids []string
	for i := range n {
		var lastErr error
		err := waitFor(ctx, time.Minute, func() error {
			status, body, err := l.api.call(ctx, l.brand, "POST", "/v1/products", map[string]any{
				"sku": fmt.Sprintf("CHAOS-%d", i), "title": fmt.Sprintf("Chaos lamp %d", i), "currency": "EUR",
				"price_minor": 5000, "url": "https://shop.example.com/lamp"}, "")
			if err != nil {
				lastErr = err
				return err
			}
			if status != http.StatusCreated {
				lastErr = fmt.Errorf("%d %s", status, body)
				return lastErr
			}
			var p struct {
				ID string `json:"id"`
			}
			json.Unmarshal(body, &p)
			ids = append(ids, p.ID)
			l.ledger.addPrice(&PriceOp{Product: p.ID, Price: 5000, Status: status, Sent: time.Now()})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("chaos: create product: %w (%v)", err, lastErr)
		}
	}
	return ids, nil
}
