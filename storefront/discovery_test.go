package storefront_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

func TestSearchOverHTTP(t *testing.T) {
	e := newEnv(t)
	clip, _, _ := e.tagged() // the product is "Sneaker 运动鞋"
	other := e.readyClip("bob")
	for _, tt := range []struct {
		name, q string
		status  int
		want    []string
	}{
		{"a product's title", "sneak", 200, []string{clip.ID}},
		{"the clips' title", "READY clip", 200, []string{clip.ID, other.ID}},
		{"no match", "kettle", 200, nil},
		{"CJK", "运动", 200, []string{clip.ID}},
		{"query syntax", `"sneak"* OR x:y -- ' ;`, 200, nil},
		{"no words", " *** ", 400, nil},
		{"empty", "", 400, nil},
		{"too long", strings.Repeat("a", shopclip.MaxSearchQuery+1), 400, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do("", "GET", "/v1/search?q="+url.QueryEscape(tt.q), nil)
			if resp.Status != tt.status {
				t.Fatalf("status %d %s, want %d", resp.Status, resp.Body, tt.status)
			}
			if tt.status != 200 {
				if resp.errCode() != shopclip.EINVALID {
					t.Errorf("error code %q, want invalid", resp.errCode())
				}
				return
			}
			var out struct {
				Clips []struct {
					ID       string               `json:"id"`
					Playback struct{ HLS string } `json:"playback"`
				} `json:"clips"`
			}
			resp.json(t, &out)
			var got []string
			for _, c := range out.Clips {
				got = append(got, c.ID)
				if c.Playback.HLS == "" {
					t.Errorf("result %s has no playback URL", c.ID)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("q=%q found %v, want %v", tt.q, got, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.Join(got, " "), w) {
					t.Errorf("q=%q found %v, want %v", tt.q, got, tt.want)
				}
			}
		})
	}
}

func TestDealsOverHTTP(t *testing.T) {
	e := newEnv(t)
	clip, p, _ := e.tagged()
	var out struct {
		Deals []struct {
			Clip struct {
				ID string `json:"id"`
			} `json:"clip"`
			EndsAt time.Time        `json:"ends_at"`
			Popups []shopclip.Popup `json:"popups"`
		} `json:"deals"`
	}
	e.do("", "GET", "/v1/deals", nil).json(t, &out)
	if len(out.Deals) != 0 {
		t.Fatalf("deals without a discount: %+v", out.Deals)
	}
	if resp := e.discount("acme", p.ID, map[string]any{"kind": "percent", "percent_off": 15}); resp.Status != 201 {
		t.Fatalf("discount: %d %s", resp.Status, resp.Body)
	}
	e.do("", "GET", "/v1/deals", nil).json(t, &out)
	if len(out.Deals) != 1 || out.Deals[0].Clip.ID != clip.ID || len(out.Deals[0].Popups) != 1 || out.Deals[0].Popups[0].Label != "-15%" {
		t.Fatalf("deals: %+v", out.Deals)
	}
	if !out.Deals[0].EndsAt.Equal(e.now.Add(time.Hour).Truncate(time.Second)) {
		t.Errorf("ends_at %v, want %v", out.Deals[0].EndsAt, e.now.Add(time.Hour))
	}
	// Once the sale ended: none.
	e.now = e.now.Add(2 * time.Hour)
	e.do("", "GET", "/v1/deals", nil).json(t, &out)
	if len(out.Deals) != 0 {
		t.Errorf("deals after the sale ended: %+v", out.Deals)
	}
	if resp := e.do("", "GET", "/v1/deals?limit=0", nil); resp.Status != 400 {
		t.Errorf("limit=0: %d", resp.Status)
	}
}

func TestPopupsNextChange(t *testing.T) {
	e := newEnv(t)
	clip, p, _ := e.tagged()
	starts := e.now.Add(30 * time.Minute).Truncate(time.Second)
	if resp := e.discount("acme", p.ID, map[string]any{"kind": "percent", "percent_off": 10,
		"starts_at": starts.Format(time.RFC3339)}); resp.Status != 201 {
		t.Fatalf("discount: %d %s", resp.Status, resp.Body)
	}
	var out struct {
		NextChangeAt *time.Time `json:"next_change_at"`
	}
	e.do("", "GET", "/v1/clips/"+clip.ID+"/popups", nil).json(t, &out)
	if out.NextChangeAt == nil || !out.NextChangeAt.Equal(starts) {
		t.Errorf("next_change_at = %v, want the sale's start %v", out.NextChangeAt, starts)
	}
}
