// Package metricstest reads metrics the way Prometheus does, for tests: it
// parses a /metrics exposition (or gathers a registry) and answers the
// value of a series, a histogram's count, and the names a PromQL
// expression may use.
package metricstest

import (
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are metric families by name.
type Families map[string]*dto.MetricFamily

// Parse parses a text exposition (what GET /metrics answers).
func Parse(t testing.TB, body io.Reader) Families {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// Gather gathers g.
func Gather(t testing.TB, g prometheus.Gatherer) Families {
	t.Helper()
	list, err := g.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	fams := Families{}
	for _, f := range list {
		fams[f.GetName()] = f
	}
	return fams
}

// Names returns the names of every series the families expose, as PromQL
// sees them: a histogram's name_bucket, name_sum and name_count, a
// summary's name_sum and name_count (and the quantiles under name).
func (f Families) Names() map[string]bool {
	names := map[string]bool{}
	for name, fam := range f {
		switch fam.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names[name+"_bucket"] = true
			names[name+"_sum"] = true
			names[name+"_count"] = true
		case dto.MetricType_SUMMARY:
			names[name] = true
			names[name+"_sum"] = true
			names[name+"_count"] = true
		default:
			names[name] = true
		}
	}
	return names
}

// Sorted returns the names, sorted.
func Sorted(names map[string]bool) []string { return slices.Sorted(maps.Keys(names)) }

// find returns the metric of family name whose labels include labels
// (name, value pairs), or nil.
func (f Families) find(name string, labels ...string) *dto.Metric {
	fam := f[name]
	if fam == nil {
		return nil
	}
next:
	for _, m := range fam.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// Value returns the value of the counter or gauge series name{labels},
// and whether it exists.
func (f Families) Value(name string, labels ...string) (float64, bool) {
	m := f.find(name, labels...)
	switch {
	case m == nil:
		return 0, false
	case m.Counter != nil:
		return m.Counter.GetValue(), true
	case m.Gauge != nil:
		return m.Gauge.GetValue(), true
	case m.Untyped != nil:
		return m.Untyped.GetValue(), true
	}
	return 0, false
}

// Histogram returns the sample count and sum of the histogram series
// name{labels}, and whether it exists.
func (f Families) Histogram(name string, labels ...string) (count uint64, sum float64, ok bool) {
	m := f.find(name, labels...)
	if m == nil || m.Histogram == nil {
		return 0, 0, false
	}
	return m.Histogram.GetSampleCount(), m.Histogram.GetSampleSum(), true
}
