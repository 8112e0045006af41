package transcode

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	tests := []struct {
		name      string
		c         Config
		keyframes []int64 // in the first 8 s
		starts    []int64 // segment starts in the first 8 s
	}{
		{"defaults", Config{}, []int64{0, 1000, 3000, 5000, 7000}, []int64{0, 1000, 3000, 5000, 7000}},
		{"equal segments", Config{FirstSegmentDuration: 2 * time.Second}, []int64{0, 2000, 4000, 6000}, []int64{0, 2000, 4000, 6000}},
		{"keyframes every second", Config{KeyframeInterval: time.Second},
			[]int64{0, 1000, 2000, 3000, 4000, 5000, 6000, 7000}, []int64{0, 1000, 3000, 5000, 7000}},
		{"half-second keyframes, 1.5 s first", Config{KeyframeInterval: 500 * time.Millisecond, FirstSegmentDuration: 1500 * time.Millisecond},
			[]int64{0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500, 6000, 6500, 7000, 7500}, []int64{0, 1500, 3500, 5500, 7500}},
		{"first shorter than a keyframe interval", Config{KeyframeInterval: 4 * time.Second, SegmentDuration: 4 * time.Second, FirstSegmentDuration: 700 * time.Millisecond},
			[]int64{0, 700, 4700}, []int64{0, 700, 4700}},
		{"short segments default the first to theirs", Config{KeyframeInterval: 500 * time.Millisecond, SegmentDuration: 500 * time.Millisecond},
			[]int64{0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500, 6000, 6500, 7000, 7500},
			[]int64{0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500, 6000, 6500, 7000, 7500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Plan(probeOf(8000, phone(1080, 1920, Rational{30, 1}), stereo()), tt.c)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			s := l.Schedule()
			if got := s.Keyframes(8000); !slices.Equal(got, tt.keyframes) {
				t.Errorf("Keyframes = %v, want %v", got, tt.keyframes)
			}
			var starts []int64
			for i := 0; s.SegmentStart(i) < 8000; i++ {
				starts = append(starts, s.SegmentStart(i))
			}
			if !slices.Equal(starts, tt.starts) {
				t.Errorf("segment starts = %v, want %v", starts, tt.starts)
			}
			for i, st := range starts {
				if !slices.Contains(tt.keyframes, st) {
					t.Errorf("segment %d starts at %d ms, not a keyframe", i, st)
				}
				if got := s.Segment(st); got != i {
					t.Errorf("Segment(%d) = %d, want %d", st, got, i)
				}
				if got := s.Segment(st - 1); st > 0 && got != i-1 {
					t.Errorf("Segment(%d) = %d, want %d", st-1, got, i-1)
				}
			}
		})
	}
}

// TestScheduleCuts runs the schedule the way the engine does, on frames of
// several rates: a rung forces a keyframe on the first frame at or after
// each scheduled keyframe time and cuts a segment at the first keyframe of
// each new segment. The segments must start within a frame of their
// scheduled times (the first lasting about FirstSegmentDuration, the next
// ones about SegmentDuration), and rungs of different rates (a 60 fps top
// rung above a 30 fps one) must cut within a frame of each other.
func TestScheduleCuts(t *testing.T) {
	rates := []Rational{{15, 1}, {24000, 1001}, {25, 1}, {30000, 1001}, {30, 1}, {50, 1}, {60000, 1001}, {60, 1}, {1, 1}}
	configs := []Config{
		{},
		{KeyframeInterval: time.Second},
		{FirstSegmentDuration: 2 * time.Second},
		{KeyframeInterval: 500 * time.Millisecond, SegmentDuration: 3 * time.Second, FirstSegmentDuration: 1200 * time.Millisecond},
	}
	const clipMS = 20_000
	for _, c := range configs {
		c = c.WithDefaults()
		l, err := Plan(probeOf(clipMS, phone(1080, 1920, Rational{30, 1}), stereo()), c)
		if err != nil {
			t.Fatal(err)
		}
		s := l.Schedule()
		cutsByRate := map[Rational][]float64{}
		for _, rate := range rates {
			name := fmt.Sprintf("first %v keyframes %v segments %v at %v fps", c.FirstSegmentDuration, c.KeyframeInterval, c.SegmentDuration, rate)
			frameDur := float64(rate.Den) / float64(rate.Num) // seconds
			var next int64
			cur := 0
			cuts := []float64{0}
			for n := 0; float64(n)*frameDur*1000 < clipMS; n++ {
				// The engine's arithmetic: the frame's pts in a 1/fps time
				// base, rounded to milliseconds.
				ms := int64(math.Round(float64(n) * frameDur * 1000))
				key := ms >= next
				if key {
					next = s.NextKeyframe(ms)
				}
				if i := s.Segment(ms); key && i > cur {
					cur = i
					cuts = append(cuts, float64(n)*frameDur)
				} else if i > cur && frameDur*1000 < float64(c.KeyframeInterval.Milliseconds()) {
					t.Errorf("%s: frame %d (%d ms) is in segment %d but is no keyframe", name, n, ms, i)
				}
			}
			cutsByRate[rate] = cuts
			for i, cut := range cuts {
				want := float64(s.SegmentStart(i)) / 1000
				if cut < want-0.0005 || cut > want+frameDur+0.0005 {
					t.Errorf("%s: segment %d starts at %.4f s, want within a frame after %.3f s", name, i, cut, want)
				}
			}
			if frameDur <= c.FirstSegmentDuration.Seconds() && len(cuts) > 2 {
				if first := cuts[1]; math.Abs(first-c.FirstSegmentDuration.Seconds()) > frameDur {
					t.Errorf("%s: first segment lasts %.3f s, want about %v", name, first, c.FirstSegmentDuration)
				}
				if second := cuts[2] - cuts[1]; math.Abs(second-c.SegmentDuration.Seconds()) > frameDur {
					t.Errorf("%s: second segment lasts %.3f s, want about %v", name, second, c.SegmentDuration)
				}
			}
		}
		top, low := cutsByRate[Rational{60, 1}], cutsByRate[Rational{30, 1}]
		if len(top) != len(low) {
			t.Errorf("%v: 60 fps cuts %d segments, 30 fps %d", c.FirstSegmentDuration, len(top), len(low))
			continue
		}
		for i := range top {
			if math.Abs(top[i]-low[i]) > 1.0/30 {
				t.Errorf("%v: segment %d starts at %.3f s at 60 fps, %.3f s at 30 fps", c.FirstSegmentDuration, i, top[i], low[i])
			}
		}
	}
}

func TestScheduleTargetDuration(t *testing.T) {
	seg := func(ms ...int) []Segment {
		var ss []Segment
		for _, m := range ms {
			ss = append(ss, Segment{URI: "s", Duration: time.Duration(m) * time.Millisecond})
		}
		return ss
	}
	tests := []struct {
		name      string
		segmentMS int64
		segs      []Segment
		want      int
	}{
		{"only the short first segment", 2000, seg(1000), 2},
		{"a few", 2000, seg(1000, 2002, 2000), 2},
		{"a short clip", 2000, seg(1000, 166), 2},
		{"a longer segment than planned", 2000, seg(1000, 2600), 3},
		{"4 s segments", 4000, seg(1000), 4},
		{"2.4 s segments", 2400, seg(1000), 2},
	}
	for _, tt := range tests {
		s := Schedule{FirstMS: 1000, KeyframeMS: 200, SegmentMS: tt.segmentMS}
		if got := s.TargetDuration(tt.segs); got != tt.want {
			t.Errorf("%s: TargetDuration = %d, want %d", tt.name, got, tt.want)
		}
	}
}
