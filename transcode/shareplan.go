package transcode

import (
	"fmt"
	"math"
	"strings"
)

// SharePlan is how a share render is made: the encoder settings and the
// output picture (Ladder, with one rung the input's displayed size) and
// where and when each card goes.
type SharePlan struct {
	// Ladder holds the encoder settings (libx264, preset, CRF, profile,
	// colour tags, keyframe interval) and one rung: the output size (the
	// input's displayed size, even), its frame rate (the input's, which
	// only informs rate control: timestamps are kept) and the rate caps of
	// the configured rung of its size (see PlanShare). It has no audio,
	// MP4 or storyboard: the audio is copied.
	Ladder *Ladder
	// Cards are the overlays in pixels, in the spec's order.
	Cards []CardPlacement
}

// CardPlacement is an overlay placed on the output picture.
type CardPlacement struct {
	// X and Y are the card's top-left corner; Width and Height its scaled
	// size. All are even (4:2:0 chroma) and the card lies inside the frame.
	X, Y, Width, Height int
	// StartMS ≤ t < EndMS is when it shows.
	StartMS, EndMS int64
}

// ShareCardPad returns the name of the filter graph input pad of card i;
// the video comes in on FilterIn and leaves on FilterOut(0).
func ShareCardPad(i int) string { return fmt.Sprintf("card%d", i) }

// PlanShare plans a share render of an input probed as p (checked against
// c.Limits like any upload, so an input outside them gets its media error)
// with the overlays of spec, whose images are cards (in the spec's order)
// in pixels.
//
// The rung's rate caps are those of the smallest configured rung at least
// as large as the input's short side (the largest rung for a larger input):
// 720p's 2.5 Mb/s for a 720×1280 clip with the default rungs.
func PlanShare(p Probe, spec ShareSpec, cards []Size, c Config) (*SharePlan, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if len(cards) != len(spec.Overlays) {
		return nil, fmt.Errorf("transcode: share: %d card sizes for %d overlays", len(cards), len(spec.Overlays))
	}
	c.NoMP4, c.NoStoryboard = true, true
	l, err := Plan(p, c)
	if err != nil {
		return nil, err
	}
	c = c.WithDefaults()
	w, h := max(2, l.Width&^1), max(2, l.Height&^1)
	short := min(w, h)
	rc := c.Rungs[0]
	for _, r := range c.Rungs { // largest first
		if r.ShortSide >= short {
			rc = r
		}
	}
	l.Rungs = []Rung{{
		Name:      fmt.Sprintf("%dp", short),
		Width:     w,
		Height:    h,
		FrameRate: l.FrameRate,
		MaxRate:   rc.MaxRate,
		BufSize:   2 * rc.MaxRate,
	}}
	// Nothing is scaled down: no prescale before rotating or tone-mapping.
	l.Prescale, l.Audio, l.MP4, l.Storyboard = nil, nil, nil, nil
	plan := &SharePlan{Ladder: l}
	for i, o := range spec.Overlays {
		plan.Cards = append(plan.Cards, placeCard(o, cards[i], w, h))
	}
	return plan, nil
}

// placeCard places o on a frameW × frameH picture (both even, ≥ 2) for an
// image of size img. It is total: whatever the numbers (NaN, infinities,
// out of range, an empty image), the card is even-sized, at least 2×2 and
// inside the frame, and its window within 0..MaxShareMS.
func placeCard(o Overlay, img Size, frameW, frameH int) CardPlacement {
	iw, ih := float64(max(img.Width, 1)), float64(max(img.Height, 1))
	w := evenIn(fraction(o.Width)*float64(frameW), 2, frameW)
	h := evenIn(float64(w)*ih/iw, 2, frameH)
	if float64(w)*ih/iw > float64(frameH) {
		// Taller than the frame: fit the height, keep the aspect.
		w = evenIn(float64(h)*iw/ih, 2, frameW)
	}
	start := min(max(o.StartMS, 0), MaxShareMS)
	end := min(max(o.EndMS, start), MaxShareMS)
	return CardPlacement{
		X:       evenIn(fraction(o.X)*float64(frameW), 0, frameW-w),
		Y:       evenIn(fraction(o.Y)*float64(frameH), 0, frameH-h),
		Width:   w,
		Height:  h,
		StartMS: start,
		EndMS:   end,
	}
}

// fraction clamps v to 0..1 (NaN to 0).
func fraction(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return min(v, 1)
}

// evenIn rounds x down to an even integer in lo..hi (lo and hi even); NaN
// gives lo.
func evenIn(x float64, lo, hi int) int {
	if math.IsNaN(x) || x < float64(lo) {
		return lo
	}
	if x > float64(hi) {
		return hi
	}
	return max(lo, int(x)&^1)
}

// VideoFilter returns the filter graph description of the render: decoded
// frames (pad FilterIn) turned upright, scaled to the output size, limited
// range yuv420p with square pixels; each card (pad ShareCardPad(i), one
// RGBA picture) scaled to its size and converted with the video's colour
// matrix; the cards overlaid in order, each enabled in its window; the
// result on FilterOut(0). Frames keep their timestamps (no fps filter). Like
// Ladder.VideoFilter it holds only numbers computed here and fixed names:
// nothing from the spec, the images or the input file is interpolated.
func (s *SharePlan) VideoFilter() string {
	l := s.Ladder
	r := l.Rungs[0]
	scale := fmt.Sprintf("scale=w=%d:h=%d", r.Width, r.Height)
	if l.limitRange() {
		scale += ":out_range=tv"
	}
	chain := append(l.uprightChain(), scale, "format="+l.PixFmt, "setsar=1")
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]%s[v0]", FilterIn, strings.Join(chain, ","))
	matrix := cardMatrix(l.Color.Space)
	for i, c := range s.Cards {
		fmt.Fprintf(&b, ";[%s]scale=w=%d:h=%d:out_color_matrix=%s:out_range=tv,format=yuva420p[k%d]",
			ShareCardPad(i), c.Width, c.Height, matrix, i)
		// if(lt(t,E),gte(t,S)) is 1 exactly when S ≤ t < E (between() would
		// include E). eof_action=repeat keeps the card's single picture.
		fmt.Fprintf(&b, ";[v%d][k%d]overlay=x=%d:y=%d:eof_action=repeat:enable='if(lt(t,%s),gte(t,%s))'[v%d]",
			i, i, c.X, c.Y, seconds3(c.EndMS), seconds3(c.StartMS), i+1)
	}
	fmt.Fprintf(&b, ";[v%d]format=%s[%s]", len(s.Cards), l.PixFmt, FilterOut(0))
	return b.String()
}

// cardMatrix returns the swscale colour matrix that converts a card's RGB
// to the video's YUV, from the video's colour space tag: FFmpeg's own
// assumption (BT.601) when it has none.
func cardMatrix(space string) string {
	switch space {
	case "bt709", "fcc", "smpte240m":
		return space
	case "bt2020nc":
		return "bt2020"
	}
	return "bt601"
}

// seconds3 formats ms as seconds with three decimals ("12.345").
func seconds3(ms int64) string { return fmt.Sprintf("%d.%03d", ms/1000, ms%1000) }
