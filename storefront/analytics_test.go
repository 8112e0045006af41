package storefront_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// dailyResponse is a daily stats answer.
type dailyResponse struct {
	ClipID    string `json:"clip_id"`
	ProductID string `json:"product_id"`
	From, To  string
	Views     int64
	Days      []shopclip.DayStats
	Totals    struct {
		Impressions, Clicks, Purchases int64
		CTR                            float64
		Revenue                        map[string]int64 `json:"revenue_minor"`
	}
}

// daily reads daily stats as user; it fails t unless they answer 200.
func (e *env) daily(user, path string) dailyResponse {
	e.t.Helper()
	resp := e.do(user, "GET", path, nil)
	if resp.Status != http.StatusOK {
		e.t.Fatalf("%s GET %s: %d %s", user, path, resp.Status, resp.Body)
	}
	var d dailyResponse
	resp.json(e.t, &d)
	return d
}

// dayOf is a wanted day: its funnel, the CTR computed, revenue in USD.
func dayOf(day string, views, impressions, clicks, purchases, usd int64) shopclip.DayStats {
	d := shopclip.DayStats{Day: day, Views: views, Impressions: impressions, Clicks: clicks, Purchases: purchases, Revenue: map[string]int64{}}
	if impressions > 0 {
		d.CTR = float64(clicks) / float64(impressions)
	}
	if usd > 0 {
		d.Revenue["USD"] = usd
	}
	return d
}

// dailyWorld records three days of events through the API, the last today
// (e.now, 2026-11-21 12:00 UTC): alice's clip tags an acme product and a
// globex one; bob's clip tags the acme product.
type dailyWorld struct {
	clip, bobClip *shopclip.Clip
	product       *shopclip.Product // acme's
	gProduct      *shopclip.Product // globex's
}

func newDailyWorld(t *testing.T, e *env) *dailyWorld {
	t.Helper()
	clip, p, tag := e.tagged()
	w := &dailyWorld{clip: clip, product: p, bobClip: e.readyClip("bob"), gProduct: e.product("globex", 500)}
	tagOn := func(brand, creator string, c *shopclip.Clip, p *shopclip.Product) *shopclip.Tag {
		t.Helper()
		var tg shopclip.Tag
		resp := e.do(brand, "POST", "/v1/clips/"+c.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 2000, "x": 0.5, "y": 0.5})
		resp.json(t, &tg)
		if resp := e.do(creator, "POST", "/v1/clips/"+c.ID+"/tags/"+tg.ID+"/approve", nil); resp.Status != 200 {
			t.Fatalf("approve: %d %s", resp.Status, resp.Body)
		}
		return &tg
	}
	gTag, bTag := tagOn("globex", "alice", clip, w.gProduct), tagOn("acme", "bob", w.bobClip, p)
	post := func(user string, body map[string]any) {
		t.Helper()
		if resp := e.do(user, "POST", "/v1/events", body); resp.Status != 202 && resp.Status != 201 {
			t.Fatalf("event %v: %d %s", body, resp.Status, resp.Body)
		}
	}
	view := func(session string, c *shopclip.Clip) {
		post("", map[string]any{"type": "view", "session_id": session, "clip_id": c.ID})
	}
	tagEvent := func(typ shopclip.EventType, session string, tg *shopclip.Tag) {
		post("", map[string]any{"type": typ, "session_id": session, "tag_id": tg.ID})
	}
	buy := func(brand, session string, p *shopclip.Product, order string, amount int64) {
		post(brand, map[string]any{"type": "purchase", "session_id": session, "product_id": p.ID, "order_id": order, "amount_minor": amount, "currency": "USD"})
	}
	today := e.now

	e.now = time.Date(2026, 11, 19, 23, 59, 59, 0, time.UTC)
	view("session-1", clip)
	tagEvent(shopclip.EventImpression, "session-1", tag)
	tagEvent(shopclip.EventClick, "session-1", tag)
	tagEvent(shopclip.EventImpression, "session-1", gTag)

	e.now = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	view("session-1", clip) // a new day: a new view
	tagEvent(shopclip.EventImpression, "session-1", tag)
	buy("acme", "session-1", p, "O-1", 19900) // the click a second ago, on yesterday's side of midnight
	view("session-2", w.bobClip)
	tagEvent(shopclip.EventImpression, "session-2", bTag)
	tagEvent(shopclip.EventClick, "session-2", bTag)
	buy("acme", "session-2", p, "O-2", 12000)

	e.now = today
	view("session-3", clip)
	tagEvent(shopclip.EventImpression, "session-3", gTag)
	tagEvent(shopclip.EventClick, "session-3", gTag)
	buy("globex", "session-3", w.gProduct, "G-1", 500)
	return w
}

const days3 = "?from=2026-11-19&to=2026-11-21"

func TestDailyStats(t *testing.T) {
	e := newEnv(t)
	w := newDailyWorld(t, e)
	clipPath, productPath := "/v1/clips/"+w.clip.ID+"/stats/daily", "/v1/products/"+w.product.ID+"/stats/daily"
	const d19, d20, d21 = "2026-11-19", "2026-11-20", "2026-11-21"
	aliceClip := []shopclip.DayStats{dayOf(d19, 1, 2, 1, 0, 0), dayOf(d20, 1, 1, 0, 1, 19900), dayOf(d21, 1, 1, 1, 1, 500)}
	acmeProduct := []shopclip.DayStats{dayOf(d19, 1, 1, 1, 0, 0), dayOf(d20, 2, 2, 1, 2, 31900), dayOf(d21, 1, 0, 0, 0, 0)}
	globex := []shopclip.DayStats{dayOf(d19, 1, 1, 0, 0, 0), dayOf(d20, 1, 0, 0, 0, 0), dayOf(d21, 1, 1, 1, 1, 500)}
	tests := []struct {
		name, user, path string
		want             []shopclip.DayStats
	}{
		{"the creator sees every tag", "alice", clipPath + days3, aliceClip},
		// Both brands' cards are live on the clip: each sees its views.
		{"a brand sees its own tag", "acme", clipPath + days3, []shopclip.DayStats{
			dayOf(d19, 1, 1, 1, 0, 0), dayOf(d20, 1, 1, 0, 1, 19900), dayOf(d21, 1, 0, 0, 0, 0)}},
		{"another brand sees its own", "globex", clipPath + days3, globex},
		{"an admin sees every tag", "root", clipPath + days3, aliceClip},
		{"a product over two creators' clips", "acme", productPath + days3, acmeProduct},
		{"a creator's clips", "alice", "/v1/me/stats/daily" + days3, aliceClip},
		{"another creator's clips", "bob", "/v1/me/stats/daily" + days3, []shopclip.DayStats{
			dayOf(d19, 0, 0, 0, 0, 0), dayOf(d20, 1, 1, 1, 1, 12000), dayOf(d21, 0, 0, 0, 0, 0)}},
		{"a brand's products", "acme", "/v1/me/stats/daily" + days3, acmeProduct},
		{"another brand's products", "globex", "/v1/me/stats/daily" + days3, globex},
		{"one day", "alice", clipPath + "?from=2026-11-20&to=2026-11-20", aliceClip[1:2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.daily(tt.user, tt.path)
			if !reflect.DeepEqual(got.Days, tt.want) {
				t.Errorf("days:\n got %+v\nwant %+v", got.Days, tt.want)
			}
			if got.From != tt.want[0].Day || got.To != tt.want[len(tt.want)-1].Day {
				t.Errorf("from %s to %s, want %s to %s", got.From, got.To, tt.want[0].Day, tt.want[len(tt.want)-1].Day)
			}
		})
	}

	// The days sum to the funnel's totals.
	for _, tt := range []struct{ user, daily, stats string }{
		{"alice", clipPath, "/v1/clips/" + w.clip.ID + "/stats"},
		{"acme", clipPath, "/v1/clips/" + w.clip.ID + "/stats"},
		{"globex", clipPath, "/v1/clips/" + w.clip.ID + "/stats"},
		{"acme", productPath, "/v1/products/" + w.product.ID + "/stats"},
	} {
		var stats dailyResponse // the same totals, and views for clips
		resp := e.do(tt.user, "GET", tt.stats, nil)
		resp.json(t, &stats)
		got := e.daily(tt.user, tt.daily)
		if !reflect.DeepEqual(got.Totals, stats.Totals) {
			t.Errorf("%s %s: totals of the days %+v, funnel totals %+v", tt.user, tt.daily, got.Totals, stats.Totals)
		}
		if stats.ClipID != "" && got.Views != stats.Views {
			t.Errorf("%s %s: views of the days %d, the clip's %d", tt.user, tt.daily, got.Views, stats.Views)
		}
		if got.Totals.Purchases == 0 {
			t.Errorf("%s %s: no purchases in %+v", tt.user, tt.daily, got.Totals)
		}
	}
	if got := e.daily("alice", clipPath+days3); got.ClipID != w.clip.ID || got.Views != 3 || got.Totals.CTR != 0.5 {
		t.Errorf("clip %s, views %d, CTR %v; want %s, 3, 0.5", got.ClipID, got.Views, got.Totals.CTR, w.clip.ID)
	}
	if got := e.daily("acme", productPath+days3); got.ProductID != w.product.ID || got.Views != 4 || got.Totals.Revenue["USD"] != 31900 {
		t.Errorf("product %s, views %d, revenue %v; want %s, 4, 31900 USD", got.ProductID, got.Views, got.Totals.Revenue, w.product.ID)
	}
}

func TestDailyStatsRange(t *testing.T) {
	e := newEnv(t)
	w := newDailyWorld(t, e)
	path := "/v1/clips/" + w.clip.ID + "/stats/daily"
	// By default the last 30 days, today's included.
	got := e.daily("alice", path)
	if got.From != "2026-10-23" || got.To != "2026-11-21" || len(got.Days) != 30 {
		t.Fatalf("default range %s to %s, %d days; want 2026-10-23 to 2026-11-21, 30", got.From, got.To, len(got.Days))
	}
	for i, d := range got.Days {
		if want := time.Date(2026, 10, 23+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly); d.Day != want {
			t.Fatalf("day %d is %s, want %s", i, d.Day, want)
		}
		if i < 27 && !reflect.DeepEqual(d, dayOf(d.Day, 0, 0, 0, 0, 0)) {
			t.Errorf("day %s = %+v, want zeros", d.Day, d)
		}
	}
	if got.Views != 3 || got.Totals.Purchases != 2 {
		t.Errorf("default range: views %d, purchases %d; want 3, 2", got.Views, got.Totals.Purchases)
	}
	if got := e.daily("alice", path+"?to=2026-11-19"); got.From != "2026-10-21" || len(got.Days) != 30 || got.Views != 1 {
		t.Errorf("to alone: from %s, %d days, views %d; want 2026-10-21, 30, 1", got.From, len(got.Days), got.Views)
	}
	if got := e.daily("alice", path+"?from=2026-11-20"); got.To != "2026-11-21" || len(got.Days) != 2 {
		t.Errorf("from alone: to %s, %d days; want today, 2", got.To, len(got.Days))
	}
	if got := e.daily("alice", path+"?from=2025-11-21&to=2026-11-21"); len(got.Days) != shopclip.MaxStatsDays {
		t.Errorf("a year and a day: %d days, want %d", len(got.Days), shopclip.MaxStatsDays)
	}
	// The server's clock says what today is.
	e.now = time.Date(2026, 12, 1, 0, 0, 1, 0, time.UTC)
	if got := e.daily("alice", path); got.To != "2026-12-01" || got.From != "2026-11-02" {
		t.Errorf("default range a few days later: %s to %s", got.From, got.To)
	}

	for _, q := range []string{
		"?from=2026-11-31",
		"?from=yesterday",
		"?to=2026-11-21T00:00:00Z",
		"?from=2026-11-22&to=2026-11-21",
		"?from=2025-11-20&to=2026-11-21",
	} {
		if resp := e.do("alice", "GET", path+q, nil); resp.Status != http.StatusBadRequest || resp.errCode() != shopclip.EINVALID {
			t.Errorf("%s: %d %s, want 400 invalid", q, resp.Status, resp.Body)
		}
	}
}

func TestDailyStatsAccess(t *testing.T) {
	e := newEnv(t)
	w := newDailyWorld(t, e)
	clipPath, productPath := "/v1/clips/"+w.clip.ID+"/stats/daily", "/v1/products/"+w.product.ID+"/stats/daily"
	tests := []struct {
		user, path string
		status     int
	}{
		{"bob", clipPath, 404}, // another creator's clip
		{"alice", "/v1/clips/" + w.bobClip.ID + "/stats/daily", 404},
		{"globex", "/v1/clips/" + w.bobClip.ID + "/stats/daily", 404}, // not tagged in it
		{"globex", productPath, 404},                                  // another brand's product
		{"acme", "/v1/products/" + w.gProduct.ID + "/stats/daily", 404},
		{"alice", productPath, 403}, // products are brands'
		{"", clipPath, 401},
		{"", "/v1/me/stats/daily", 401},
		{"root", "/v1/me/stats/daily", 403}, // an admin has no clips or products of its own
		{"acme", "/v1/clips/" + shopclip.NewID(shopclip.PrefixClip) + "/stats/daily", 404},
		{"acme", "/v1/clips/nope/stats/daily", 404},
		{"root", productPath, 200},
	}
	for _, tt := range tests {
		if resp := e.do(tt.user, "GET", tt.path, nil); resp.Status != tt.status {
			t.Errorf("%s GET %s: %d %s, want %d", tt.user, tt.path, resp.Status, resp.Body, tt.status)
		}
	}
	// A brand whose card on a clip is pending sees its tags' days, not the
	// clip's audience.
	c := e.readyClip("bob")
	if resp := e.do("globex", "POST", "/v1/clips/"+c.ID+"/tags", map[string]any{"product_id": w.gProduct.ID, "start_ms": 0, "end_ms": 1000, "x": 0.1, "y": 0.1}); resp.Status != 202 {
		t.Fatalf("globex tag: %d %s", resp.Status, resp.Body)
	}
	e.do("", "POST", "/v1/events", map[string]any{"type": "view", "session_id": "session-9", "clip_id": c.ID})
	if got := e.daily("bob", "/v1/clips/"+c.ID+"/stats/daily"); got.Views != 1 {
		t.Errorf("the creator's views: %d, want 1", got.Views)
	}
	if got := e.daily("globex", "/v1/clips/"+c.ID+"/stats/daily"); got.Views != 0 || len(got.Days) != 30 {
		t.Errorf("a brand with a pending tag: views %d, %d days; want 0, 30", got.Views, len(got.Days))
	}
	// Without Analytics the routes say so.
	e.api.Analytics = nil
	for _, path := range []string{clipPath, productPath, "/v1/me/stats/daily"} {
		user := "alice"
		if path == productPath {
			user = "acme"
		}
		if resp := e.do(user, "GET", path, nil); resp.Status != http.StatusServiceUnavailable {
			t.Errorf("%s without Analytics: %d %s, want 503", path, resp.Status, resp.Body)
		}
	}
}

// TestDailyStatsOpenAPI checks real answers against the document's schemas.
func TestDailyStatsOpenAPI(t *testing.T) {
	e := newEnv(t)
	w := newDailyWorld(t, e)
	doc := e.openAPI()
	for _, tt := range []struct{ user, template, path string }{
		{"alice", "/v1/clips/{id}/stats/daily", "/v1/clips/" + w.clip.ID + "/stats/daily" + days3},
		{"acme", "/v1/products/{id}/stats/daily", "/v1/products/" + w.product.ID + "/stats/daily"},
		{"acme", "/v1/me/stats/daily", "/v1/me/stats/daily"},
	} {
		resp := e.do(tt.user, "GET", tt.path, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", tt.path, resp.Status, resp.Body)
		}
		var v any
		resp.json(t, &v)
		c := checker{doc: doc}
		c.check("response", responseSchema(t, doc, "GET", tt.template, 200), v)
		for _, err := range c.errs {
			t.Errorf("GET %s: %s", tt.template, err)
		}
		var params []string
		for _, p := range list(obj(obj(obj(doc["paths"])[tt.template])["get"])["parameters"]) {
			if obj(p)["in"] == "query" {
				params = append(params, obj(p)["name"].(string))
			}
		}
		if !reflect.DeepEqual(params, []string{"from", "to"}) {
			t.Errorf("GET %s documents query parameters %v, want from and to", tt.template, params)
		}
	}
}
