package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Charts for the studio's stats: SVG drawn on the server (no script, no
// inline style: the page's CSP holds), each with a text summary for
// screen readers and the numbers in a table beside it.

// series is one line or set of bars of a chart.
type series struct {
	Name   string
	Class  string // the CSS class that colours it
	Values []float64
}

// chart is a chart of values per day.
type chart struct {
	Title string
	Days  []string // the UTC dates, as "2006-01-02"
	// Series are drawn as bars (the first) and lines (the others).
	Series []series
	// Format writes a value for the axis, the summary and the table.
	Format func(float64) string
}

const (
	chartW, chartH       = 640, 200
	padL, padR, padT, pB = 48, 10, 12, 26
)

// SVG draws the chart.
func (c chart) SVG() template.HTML {
	format := c.Format
	if format == nil {
		format = func(v float64) string { return fmt.Sprintf("%.0f", v) }
	}
	top := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			top = math.Max(top, v)
		}
	}
	top = niceCeil(top)
	n := len(c.Days)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-pB)
	x := func(i int) float64 { return padL + (float64(i)+0.5)*plotW/float64(max(n, 1)) }
	y := func(v float64) float64 { return padT + plotH - v/top*plotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH, template.HTMLEscapeString(c.summary(format)))
	for i := 0; i <= 2; i++ { // gridlines at 0, half and the top
		v := top * float64(i) / 2
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y(v), y(v))
		if i == 1 && (format(v) == format(0) || format(v) == format(top)) {
			continue // half of a small count: no label that repeats another
		}
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y(v)+4, template.HTMLEscapeString(format(v)))
	}
	for _, i := range labelDays(n) {
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), chartH-8, shortDay(c.Days[i]))
	}
	for si, s := range c.Series {
		if si == 0 {
			bw := math.Max(plotW/float64(max(n, 1))*0.7, 1)
			for i, v := range s.Values {
				if v <= 0 {
					continue
				}
				fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`,
					s.Class, x(i)-bw/2, y(v), bw, padT+plotH-y(v), shortDay(c.Days[i]), template.HTMLEscapeString(format(v)))
			}
			continue
		}
		var pts []string
		for i, v := range s.Values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		fmt.Fprintf(&b, `<polyline class="%s" fill="none" points="%s"/>`, s.Class, strings.Join(pts, " "))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// summary says what the chart shows, for people who cannot see it.
func (c chart) summary(format func(float64) string) string {
	var parts []string
	for _, s := range c.Series {
		total, peak, at := 0.0, 0.0, ""
		for i, v := range s.Values {
			total += v
			if v > peak {
				peak, at = v, c.Days[i]
			}
		}
		p := fmt.Sprintf("%s: %s in all", s.Name, format(total))
		if at != "" {
			p += fmt.Sprintf(", most on %s (%s)", shortDay(at), format(peak))
		}
		parts = append(parts, p)
	}
	span := ""
	if len(c.Days) > 0 {
		span = fmt.Sprintf(" from %s to %s", shortDay(c.Days[0]), shortDay(c.Days[len(c.Days)-1]))
	}
	return c.Title + " per day" + span + ". " + strings.Join(parts, "; ") + "."
}

// Rows are the chart's numbers, a row a day, for its table.
func (c chart) Rows() [][]string {
	format := c.Format
	if format == nil {
		format = func(v float64) string { return fmt.Sprintf("%.0f", v) }
	}
	var rows [][]string
	for i, d := range c.Days {
		row := []string{d}
		for _, s := range c.Series {
			row = append(row, format(s.Values[i]))
		}
		rows = append(rows, row)
	}
	return rows
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (1 for 0).
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// labelDays picks the days the x axis names: the first, the last and a few
// between.
func labelDays(n int) []int {
	switch {
	case n == 0:
		return nil
	case n <= 2:
		return []int{0, n - 1}[:n]
	}
	return []int{0, n / 3, 2 * n / 3, n - 1}
}

func shortDay(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("Jan 2")
}
