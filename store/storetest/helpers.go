package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// Clock is a fake clock for the store under test: each reading returns the
// current time and then advances it by the step. A zero step freezes it. It
// is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

// NewClock returns a clock at start advancing by step per reading.
func NewClock(start time.Time, step time.Duration) *Clock {
	return &Clock{now: start, step: step}
}

// Now returns the clock's time and advances it.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

// Set moves the clock to t with a new step.
func (c *Clock) Set(t time.Time, step time.Duration) {
	c.mu.Lock()
	c.now, c.step = t, step
	c.mu.Unlock()
}

// Peek returns the time the next reading will return.
func (c *Clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// stored is what a store hands back for a time it was given: UTC, rounded
// to microseconds.
func stored(t time.Time) time.Time { return t.UTC().Round(time.Microsecond) }

// wantCode fails t unless err carries the shopclip error code want ("" for
// no error).
func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := shopclip.ErrorCode(err); got != want {
		t.Fatalf("%s: error code = %q (err %v), want %q", what, got, err, want)
	}
	if want != "" {
		var e *shopclip.Error
		if errors.As(err, &e) && e.Message == "" {
			t.Errorf("%s: error %v has no message", what, err)
		}
	}
}

// ok fails t when err is not nil.
func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// same fails t (without stopping it) when got and want differ, listing the
// differing fields. Times compare with Equal and must be in UTC.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	var lines []string
	diff(&lines, "", reflect.ValueOf(got), reflect.ValueOf(want))
	if len(lines) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(lines, "\n\t"))
	}
}

var timeType = reflect.TypeOf(time.Time{})

func diff(lines *[]string, path string, got, want reflect.Value) {
	if !got.IsValid() || !want.IsValid() {
		if got.IsValid() != want.IsValid() {
			*lines = append(*lines, fmt.Sprintf("%s: got %v, want %v", path, show(got), show(want)))
		}
		return
	}
	if got.Type() != want.Type() {
		*lines = append(*lines, fmt.Sprintf("%s: got type %s, want %s", path, got.Type(), want.Type()))
		return
	}
	switch {
	case got.Type() == timeType:
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) || g.Location() != time.UTC {
			*lines = append(*lines, fmt.Sprintf("%s: got %s, want %s (in UTC)", path, g.Format(time.RFC3339Nano+" MST"), w.Format(time.RFC3339Nano)))
		}
	case got.Kind() == reflect.Pointer || got.Kind() == reflect.Interface:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				*lines = append(*lines, fmt.Sprintf("%s: got %v, want %v", path, show(got), show(want)))
			}
			return
		}
		diff(lines, path, got.Elem(), want.Elem())
	case got.Kind() == reflect.Struct:
		for i := 0; i < got.NumField(); i++ {
			if f := got.Type().Field(i); f.IsExported() {
				diff(lines, path+"."+f.Name, got.Field(i), want.Field(i))
			}
		}
	case got.Kind() == reflect.Slice:
		if got.IsNil() != want.IsNil() || got.Len() != want.Len() {
			*lines = append(*lines, fmt.Sprintf("%s: got %v, want %v", path, show(got), show(want)))
			return
		}
		for i := 0; i < got.Len(); i++ {
			diff(lines, fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*lines = append(*lines, fmt.Sprintf("%s: got %#v, want %#v", path, got.Interface(), want.Interface()))
		}
	}
}

func show(v reflect.Value) string {
	switch {
	case !v.IsValid():
		return "<invalid>"
	case (v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice || v.Kind() == reflect.Interface) && v.IsNil():
		return "nil"
	case v.Kind() == reflect.Pointer:
		return fmt.Sprintf("&%+v", v.Elem().Interface())
	}
	return fmt.Sprintf("%+v", v.Interface())
}

// ids returns the IDs of clips.
func ids(cs []*shopclip.Clip) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func tagIDs(ts []*shopclip.Tag) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}
