package transcode

import (
	"slices"
	"strings"
	"testing"
)

// TestAdapt checks the content-aware rung choice on the default ladder
// for a portrait 1080x1920 phone clip: which rungs stay, and each one's CRF
// and VBV cap.
func TestAdapt(t *testing.T) {
	tests := []struct {
		name      string
		cx        Complexity
		wantRungs []string
		wantCRF   int     // every rung's
		wantScale float64 // of every rung's default cap
	}{
		{"nothing analysed: the fixed ladder",
			Complexity{}, []string{"1080p", "720p", "480p"}, 0, 1},
		{"busy and sharp: all rungs at the configured CRF and caps",
			Complexity{Frames: 16, SI: 90, TI: 25, Detail: []float64{0.975, 0.97}}, []string{"1080p", "720p", "480p"}, 23, 1},
		{"soft source: the top rung goes",
			Complexity{Frames: 16, SI: 90, TI: 25, Detail: []float64{0.9981, 0.9977}}, []string{"720p", "480p"}, 23, 1},
		{"just under the drop threshold: the top rung stays",
			Complexity{Frames: 16, SI: 90, TI: 25, Detail: []float64{DropDetail - 0.0001, 0.9977}}, []string{"1080p", "720p", "480p"}, 23, 1},
		{"only the top rung goes, however soft",
			Complexity{Frames: 16, SI: 90, TI: 25, Detail: []float64{1, 1}}, []string{"720p", "480p"}, 23, 1},
		{"flat and still: coarser CRF, tighter caps",
			Complexity{Frames: 16, SI: 20, TI: 1, Detail: []float64{0.98, 0.98}}, []string{"1080p", "720p", "480p"}, 25, 0.6},
		{"moderate detail, slow motion",
			Complexity{Frames: 16, SI: 50, TI: 5, Detail: []float64{0.98, 0.98}}, []string{"1080p", "720p", "480p"}, 24, 0.8},
		{"flat but moving: configured CRF and caps",
			Complexity{Frames: 16, SI: 20, TI: 40, Detail: []float64{0.98, 0.98}}, []string{"1080p", "720p", "480p"}, 23, 1},
	}
	fixed, err := Plan(probeOf(2166, phone(1080, 1920, Rational{30, 1}), stereo()), Config{})
	if err != nil {
		t.Fatal(err)
	}
	caps := map[string]int64{}
	for _, r := range fixed.Rungs {
		caps[r.Name] = r.MaxRate
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Plan(probeOf(2166, phone(1080, 1920, Rational{30, 1}), stereo()), Config{})
			if err != nil {
				t.Fatal(err)
			}
			l.Adapt(tt.cx)
			var got []string
			for _, r := range l.Rungs {
				got = append(got, r.Name)
			}
			if !slices.Equal(got, tt.wantRungs) {
				t.Errorf("rungs %v, want %v", got, tt.wantRungs)
			}
			for _, r := range l.Rungs {
				if r.CRF != tt.wantCRF {
					t.Errorf("%s: crf %d, want %d", r.Name, r.CRF, tt.wantCRF)
				}
				if want := int64(float64(caps[r.Name]) * tt.wantScale); r.MaxRate != want || r.BufSize != 2*want {
					t.Errorf("%s: max rate %d, buf %d, want %d, %d", r.Name, r.MaxRate, r.BufSize, want, 2*want)
				}
			}
			if l.Complexity == nil || l.Complexity.Frames != tt.cx.Frames {
				t.Errorf("ladder records complexity %+v, want %+v", l.Complexity, tt.cx)
			}
			checkLadderInvariants(t, l)
		})
	}
}

// TestAdaptKeepsTheLastRung checks a one-rung ladder (a source smaller
// than every rung) keeps its rung however soft it is.
func TestAdaptKeepsTheLastRung(t *testing.T) {
	l, err := Plan(probeOf(3000, phone(480, 270, Rational{30, 1}), nil), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Rungs) != 1 {
		t.Fatalf("%d rungs planned, want 1", len(l.Rungs))
	}
	l.Adapt(Complexity{Frames: 16, SI: 10, TI: 0.5})
	if len(l.Rungs) != 1 {
		t.Fatalf("%d rungs after Adapt, want 1", len(l.Rungs))
	}
	checkLadderInvariants(t, l)
}

// TestAdaptRotatedHDR checks dropping the top rung of a rotated HDR
// source moves the prescale (stored orientation) down to the new top rung.
func TestAdaptRotatedHDR(t *testing.T) {
	v := phone(3840, 2160, Rational{30, 1})
	v.DisplayMatrix = rotationMatrix(-90)
	v.Rotation = RotationFromMatrix(v.DisplayMatrix)
	v.Width, v.Height = DisplaySize(v.CodedWidth, v.CodedHeight, v.SampleAspect, true)
	v.PixFmt, v.BitDepth, v.ColorTransfer, v.ColorPrimaries, v.ColorSpace, v.HDR = "yuv420p10le", 10, "arib-std-b67", "bt2020", "bt2020nc", true
	l, err := Plan(probeOf(3000, v, stereo()), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Prescale == nil || *l.Prescale != (Size{1920, 1080}) {
		t.Fatalf("prescale %+v before Adapt, want 1920x1080", l.Prescale)
	}
	l.Adapt(Complexity{Frames: 16, SI: 90, TI: 25, Detail: []float64{0.999, 0.97}})
	if l.Rungs[0].Name != "720p" {
		t.Fatalf("top rung %s, want 720p", l.Rungs[0].Name)
	}
	if l.Prescale == nil || *l.Prescale != (Size{1280, 720}) {
		t.Errorf("prescale %+v after Adapt, want 1280x720 (the new top rung, stored orientation)", l.Prescale)
	}
	checkLadderInvariants(t, l)
}

// checkLadderInvariants checks what every ladder keeps: rungs largest
// first, none faster than the one above, the MP4 naming a made rung.
func checkLadderInvariants(t *testing.T, l *Ladder) {
	t.Helper()
	for i := 1; i < len(l.Rungs); i++ {
		a, b := l.Rungs[i-1], l.Rungs[i]
		if min(b.Width, b.Height) >= min(a.Width, a.Height) {
			t.Errorf("rung %s not smaller than %s", b.Name, a.Name)
		}
		if b.FrameRate.Float() > a.FrameRate.Float() {
			t.Errorf("rung %s (%s fps) faster than %s (%s)", b.Name, b.FrameRate, a.Name, a.FrameRate)
		}
	}
	if l.MP4 != nil && !l.hasRung(l.MP4.Rung) {
		t.Errorf("MP4 holds rung %q, which is not made", l.MP4.Rung)
	}
}

// TestComplexityFilter checks the analysis graph's outputs: siti on a
// small picture, and one ssim per adjacent pair of rungs between rung i
// and rung i+1 scaled back up to rung i's size.
func TestComplexityFilter(t *testing.T) {
	l, err := Plan(probeOf(2166, phone(1080, 1920, Rational{30, 1}), stereo()), Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := l.ComplexityFilter()
	for _, want := range []string{
		"[in]scale=w=1080:h=1920,format=yuv420p,setsar=1,split=3[a0][b0][m]",
		"[m]scale=w=270:h=480,siti[siti]",
		"[b0]scale=w=720:h=1280,split=3[a1][u1][b1]",
		"[u1]scale=w=1080:h=1920:flags=bicubic[v1];[a0][v1]ssim[detail0]",
		"[b1]scale=w=480:h=854[u2]",
		"[u2]scale=w=720:h=1280:flags=bicubic[v2];[a1][v2]ssim[detail1]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("analysis graph %q lacks %q", got, want)
		}
	}
	one, err := Plan(probeOf(3000, phone(480, 270, Rational{30, 1}), nil), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := one.ComplexityFilter(), "[in]scale=w=480:h=270,format=yuv420p,setsar=1,scale=w=480:h=270,siti[siti]"; got != want {
		t.Errorf("one-rung analysis graph %q, want %q", got, want)
	}
}
