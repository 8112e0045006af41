package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/internal/metrics/metricstest"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/workers"
)

const (
	alertsFile    = "../../configs/prometheus/alerts.yaml"
	dashboardFile = "../../configs/grafana/shopclip.json"
)

// scrapeMetrics reads url's /metrics as Prometheus does.
func scrapeMetrics(t *testing.T, url string) metricstest.Families {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s", url, resp.Status)
	}
	return metricstest.Parse(t, resp.Body)
}

// TestMetricsRulesAndDashboard runs `shopclip up`, uploads a clip that
// transcodes, and reads /metrics: every component's metrics moved, and
// every metric the alert rules and the dashboard name is among those the
// server exposes.
func TestMetricsRulesAndDashboard(t *testing.T) {
	m, data := bootUp(t)
	api := client{t, m.URL()}
	creator := cli(t, "account", "create", "--role", "creator", "--name", "alice", "--data", data)
	file := testenv.Media(t, "h264_noaudio_480x270_koala.mp4")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	clip := api.waitClip(creator, api.upload(creator, file, "koala"), 3*time.Minute)
	if clip.Status != "ready" {
		t.Fatalf("clip %s: %+v", clip.Status, clip.Error)
	}
	// The task's outcome is counted when its handler returns, just after
	// the clip turned ready.
	var got metricstest.Families
	for deadline := time.Now().Add(30 * time.Second); ; {
		got = scrapeMetrics(t, m.URL())
		if v, _ := got.Value("shopclip_tasks_total", "type", workers.TypeTranscode, "outcome", "ok"); v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no successful transcode counted in shopclip_tasks_total")
		}
		time.Sleep(50 * time.Millisecond)
	}

	t.Run("values", func(t *testing.T) {
		hists := []struct {
			name   string
			labels []string
			min    uint64
		}{
			{"shopclip_http_request_duration_seconds", []string{"route", "POST /v1/clips", "code", "202"}, 1},
			{"shopclip_transcode_duration_seconds", nil, 1},
			{"shopclip_transcode_speed_ratio", nil, 1},
			{"shopclip_task_queue_wait_seconds", []string{"type", workers.TypeTranscode}, 1},
			{"shopclip_task_duration_seconds", []string{"type", workers.TypeTranscode}, 1},
			{"shopclip_blob_operation_duration_seconds", []string{"backend", "local", "op", "put"}, 2}, // the original and the outputs
		}
		for _, h := range hists {
			if n, _, _ := got.Histogram(h.name, h.labels...); n < h.min {
				t.Errorf("%s%v: %d observations, want at least %d", h.name, h.labels, n, h.min)
			}
		}
		if v, _ := got.Value("shopclip_upload_bytes_total"); v != float64(fi.Size()) {
			t.Errorf("upload bytes %v, want the file's %d", v, fi.Size())
		}
		if v, _ := got.Value("shopclip_transcoded_video_seconds_total"); v != float64(clip.DurationMS)/1000 {
			t.Errorf("video seconds %v, want the clip's %v", v, float64(clip.DurationMS)/1000)
		}
		if v, ok := got.Value("shopclip_clips_stuck_processing"); !ok || v != 0 {
			t.Errorf("stuck clips %v (exists %v), want 0", v, ok)
		}
		if v, _ := got.Value("shopclip_data_dir_free_bytes", "path", data); v <= 0 {
			t.Errorf("free bytes of %s: %v", data, v)
		}
		for _, s := range []struct {
			name   string
			labels []string
		}{
			{"go_sql_open_connections", []string{"db_name", "write"}},
			{"go_sql_open_connections", []string{"db_name", "read"}},
			{"shopclip_redis_pool_connections", []string{"client", "shopclip"}},
			{"asynq_queue_size", []string{"queue", workers.QueueTranscode}},
			{"go_goroutines", nil},
			{"process_resident_memory_bytes", nil},
		} {
			if _, ok := got.Value(s.name, s.labels...); !ok {
				t.Errorf("no %s%v", s.name, s.labels)
			}
		}
	})

	names := got.Names()
	t.Run("alert rules", func(t *testing.T) {
		groups, errs := rulefmt.ParseFile(alertsFile, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
		if len(errs) > 0 {
			t.Fatalf("%s: %v", alertsFile, errs)
		}
		var alerts []string
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				alerts = append(alerts, r.Alert)
				if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
					t.Errorf("%s: no severity or summary", r.Alert)
				}
				if missing := unknownMetrics(t, r.Expr, names); len(missing) > 0 {
					t.Errorf("alert %s names metrics /metrics does not have: %v", r.Alert, missing)
				}
			}
		}
		// What the issue asks the rules to watch.
		for _, want := range []string{"ShopclipQueueLatencyHigh", "ShopclipTaskFailureRateHigh", "ShopclipClipsStuckProcessing", "ShopclipHTTP5xxRateHigh", "ShopclipDataDirLowSpace"} {
			if !slices.Contains(alerts, want) {
				t.Errorf("no alert %s in %v", want, alerts)
			}
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		exprs := dashboardExprs(t)
		if len(exprs) < 20 {
			t.Errorf("%d panels with queries in the dashboard, want the 20 or so of the issue", len(exprs))
		}
		n := 0
		for title, list := range exprs {
			n += len(list)
			for _, e := range list {
				if missing := unknownMetrics(t, e, names); len(missing) > 0 {
					t.Errorf("panel %q names metrics /metrics does not have: %v (%s)", title, missing, e)
				}
			}
		}
		if n == 0 {
			t.Error("no expressions in the dashboard")
		}
	})

	t.Run("the check can fail", func(t *testing.T) {
		if missing := unknownMetrics(t, `sum(rate(shopclip_no_such_total[5m])) / sum(rate(shopclip_http_requests_total[5m]))`, names); !slices.Equal(missing, []string{"shopclip_no_such_total"}) {
			t.Errorf("unknown metrics %v, want [shopclip_no_such_total]", missing)
		}
	})
}

// unknownMetrics returns the metric names expr selects that names lacks.
func unknownMetrics(t *testing.T, expr string, names map[string]bool) []string {
	t.Helper()
	// Grafana's variables, as Grafana fills them in.
	expr = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h").Replace(expr)
	node, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("parse %q: %v", expr, err)
		return nil
	}
	var missing []string
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			t.Errorf("%q selects series by no metric name", expr)
		} else if !names[name] {
			missing = append(missing, name)
		}
		return nil
	})
	return missing
}

// dashboardExprs returns the PromQL expressions of the dashboard's
// panels (and of panels inside rows), by panel title.
func dashboardExprs(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string
		Type    string
		Targets []struct{ Expr string }
		Panels  json.RawMessage
	}
	var dash struct {
		UID    string
		Title  string
		Panels []panel
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.UID == "" || dash.Title == "" {
		t.Errorf("dashboard uid %q title %q", dash.UID, dash.Title)
	}
	exprs := map[string][]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				exprs[p.Title] = append(exprs[p.Title], tg.Expr)
			}
			var inner []panel
			if len(p.Panels) > 0 && json.Unmarshal(p.Panels, &inner) == nil {
				walk(inner)
			}
		}
	}
	walk(dash.Panels)
	return exprs
}

// TestWorkerMetricsListener: `shopclip worker` serves /metrics on
// worker.metrics_addr (only /metrics), not at all when it is empty, and
// starts without it when the address is taken.
func TestWorkerMetricsListener(t *testing.T) {
	redisAddr, redisDB := testenv.Redis(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cases := []struct {
		name, addr string
		serves     bool
	}{
		{"an address", "127.0.0.1:0", true},
		{"empty", "", false},
		{"in use", taken.Addr().String(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := t.TempDir()
			cfg, err := configs.Load("", []string{"SHOPCLIP_DATA=" + data,
				fmt.Sprintf("SHOPCLIP_REDIS_URL=redis://%s/%d", redisAddr, redisDB),
				"SHOPCLIP_WORKER_METRICS_ADDR=" + c.addr,
				"SHOPCLIP_WORKER_WORK_DIR=" + filepath.Join(data, "work")})
			if err != nil {
				t.Fatal(err)
			}
			m := &Main{Config: cfg, Mode: ModeWorker, Logger: testLogger(t), TranscodeCommand: []string{self(t), "transcode"}}
			if err := m.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if got := m.MetricsAddr() != ""; got != c.serves {
				t.Fatalf("metrics listener %q, want one: %v", m.MetricsAddr(), c.serves)
			}
			if !c.serves {
				return
			}
			url := "http://" + m.MetricsAddr()
			names := scrapeMetrics(t, url).Names()
			for _, want := range []string{"shopclip_clips_stuck_processing", "go_sql_open_connections", "shopclip_redis_pool_connections", "go_goroutines"} {
				if !names[want] {
					t.Errorf("no %s on the worker's /metrics", want)
				}
			}
			if names["shopclip_http_requests_total"] {
				t.Error("a worker exposes API request metrics")
			}
			resp, err := http.Get(url + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET /: %s, want 404", resp.Status)
			}
		})
	}
}
