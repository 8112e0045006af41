package web

import (
	"strings"
	"testing"
)

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0, 1}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {11, 20}, {450, 500}, {501, 1000}} {
		if got := niceCeil(tc.in); got != tc.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestChartSVG(t *testing.T) {
	c := chart{Title: "Views", Days: []string{"2026-12-01", "2026-12-02", "2026-12-03"},
		Series: []series{{"Views", "s-views", []float64{0, 3, 1}}, {"Clicks", "s-clicks", []float64{0, 1, 0}}}}
	svg := string(c.SVG())
	if n := strings.Count(svg, "<rect "); n != 2 {
		t.Errorf("%d bars for two days with views: %s", n, svg)
	}
	if !strings.Contains(svg, `<polyline class="s-clicks"`) || strings.Count(svg, "<line ") != 3 {
		t.Errorf("no line for the second series, or not 3 gridlines: %s", svg)
	}
	for _, want := range []string{`aria-label="Views per day from Dec 1 to Dec 3. Views: 4 in all, most on Dec 2 (3); Clicks: 1 in all, most on Dec 2 (1)."`, ">Dec 1<", ">Dec 3<", "<title>Dec 2: 3</title>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart lacks %s: %s", want, svg)
		}
	}
	if rows := c.Rows(); len(rows) != 3 || strings.Join(rows[1], ",") != "2026-12-02,3,1" {
		t.Errorf("rows %v", rows)
	}
	// Titles are text, never markup.
	c.Title = `<script>x</script>`
	if strings.Contains(string(c.SVG()), "<script>") {
		t.Error("the title made it into the SVG as markup")
	}
}
