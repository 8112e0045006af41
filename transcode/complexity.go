package transcode

import (
	"fmt"
	"strings"
)

// Complexity is what a short look at the start of a clip says about its
// content, measured on the ladder's own pictures (upright, tone-mapped,
// scaled to each rung; see Ladder.ComplexityFilter) before the encoders
// open. Ladder.Adapt turns it into content-aware rungs.
type Complexity struct {
	// Frames is how many frames were analysed (the first second, at most
	// ComplexityFrames); 0 means the analysis saw nothing and changed
	// nothing.
	Frames int `json:"frames"`
	// SI and TI are the mean spatial and temporal information (ITU-T
	// P.910, FFmpeg's siti filter) of the luma of the top rung's picture
	// scaled to a short side of SITIShortSide (cheaper than the full
	// size, and the same scale for every clip): edge energy and
	// frame-to-frame change, 0 for a flat still picture.
	SI float64 `json:"si"`
	TI float64 `json:"ti"`
	// Detail[i] is the SSIM of rung i's picture against rung i+1's
	// upscaled back to rung i's size (bicubic, as a player does), before
	// any encoding: how much rung i shows that the rung below it does not.
	// 1 means nothing (a soft or upscaled source); one entry per rung but
	// the last.
	Detail []float64 `json:"detail,omitempty"`
}

// Content-aware ladder parameters (see Adapt).
const (
	// ComplexityWindowMS, ComplexityMinFrames and ComplexityFrames bound
	// the analysis: the frames of the first second, at most 16 of them;
	// a source whose first frames are held long (a camera's VFR) is
	// followed up to ComplexityMaxMS until 8 frames are seen.
	ComplexityWindowMS  = 1000
	ComplexityMaxMS     = 5000
	ComplexityMinFrames = 8
	ComplexityFrames    = 16
	// SITIShortSide is the short side of the pictures SI and TI are
	// measured on (at most the top rung's).
	SITIShortSide = 270
	// DropDetail is the Detail at or above which the top rung adds
	// nothing worth its bytes over the rung below, upscaled.
	DropDetail = 0.995
)

// crfStep is one row of the content-aware CRF table: content whose
// spatial and temporal information are both at most SI and TI gets the
// ladder's CRF plus Delta. The first matching row wins; the last row
// matches everything.
type crfStep struct {
	SI, TI float64
	Delta  int
}

// crfSteps raise the CRF of easy content, whose pictures keep their
// quality at a coarser quantizer (flat areas, little motion), and keep it
// for busy content.
var crfSteps = []crfStep{
	{SI: 40, TI: 3, Delta: 2},
	{SI: 60, TI: 8, Delta: 1},
	{SI: 1e9, TI: 1e9, Delta: 0},
}

// capScale scales a rung's VBV cap with the content's motion: still or
// slow content gets a tighter cap (its CRF rate is far below it anyway, and
// the cap bounds a surprise later in the clip); moving content keeps the
// configured cap.
func capScale(cx Complexity) float64 {
	switch {
	case cx.TI < 3:
		return 0.6
	case cx.TI < 8:
		return 0.8
	default:
		return 1.0
	}
}

// Adapt makes l content-aware from what the analysis measured: it drops
// the top rung when it adds nothing over the rung below (Detail[0] at or
// above DropDetail; only the top one, so a soft source still gets two
// sizes, and never the only rung), and sets each rung's CRF
// and VBV cap from the content's spatial and temporal information (see
// crfSteps and capScale). It keeps the ladder's invariants: rungs largest
// first, each at most the frame rate of the one above, the MP4 naming a
// rung that is made, the prescale matching the top rung. cx with no frames
// changes nothing but recording it. l.Complexity records cx.
func (l *Ladder) Adapt(cx Complexity) {
	c := cx
	c.Detail = append([]float64(nil), cx.Detail...)
	l.Complexity = &c
	if cx.Frames == 0 || len(l.Rungs) == 0 {
		return
	}
	if len(l.Rungs) > 1 && len(cx.Detail) > 0 && cx.Detail[0] >= DropDetail {
		l.Rungs = l.Rungs[1:]
	}
	delta := 0
	for _, s := range crfSteps {
		if cx.SI <= s.SI && cx.TI <= s.TI {
			delta = s.Delta
			break
		}
	}
	scale := capScale(cx)
	for i := range l.Rungs {
		r := &l.Rungs[i]
		r.CRF = min(51, l.CRF+delta)
		r.MaxRate = max(64_000, int64(float64(r.MaxRate)*scale))
		r.BufSize = 2 * r.MaxRate
	}
	if l.MP4 != nil && !l.hasRung(l.MP4.Rung) {
		l.MP4.Rung = l.mp4Rung()
	}
	l.setPrescale(l.Width, l.Height)
}

// hasRung reports whether l makes the rung called name.
func (l *Ladder) hasRung(name string) bool {
	for _, r := range l.Rungs {
		if r.Name == name {
			return true
		}
	}
	return false
}

// mp4Rung is the rung the progressive MP4 holds: the first at most 720
// on its short side, else the top one.
func (l *Ladder) mp4Rung() string {
	for _, r := range l.Rungs {
		if min(r.Width, r.Height) <= 720 {
			return r.Name
		}
	}
	return l.Rungs[0].Name
}

// ComplexityFilter returns the filter graph description of the analysis
// (pad FilterIn in, outputs ComplexitySITI and ComplexityDetail(i) for
// each rung but the last): the ladder's upright chain and top rung scale
// like VideoFilter (no frame rate change: the analysis sees the decoded
// frames), the siti filter on the top rung, and for each adjacent pair of
// rungs the ssim filter between rung i and rung i+1 scaled back up to
// rung i's size. Its figures arrive as frame metadata (lavfi.siti.si,
// lavfi.siti.ti, lavfi.ssim.All).
func (l *Ladder) ComplexityFilter() string {
	chain := l.uprightChain()
	top := l.Rungs[0]
	scale := fmt.Sprintf("scale=w=%d:h=%d", top.Width, top.Height)
	if l.limitRange() {
		scale += ":out_range=tv"
	}
	chain = append(chain, scale, "format=yuv420p", "setsar=1")
	short := min(SITIShortSide, top.Width, top.Height) &^ 1
	long := evenRound(float64(max(top.Width, top.Height)) * float64(short) / float64(min(top.Width, top.Height)))
	w, h := long, short
	if top.Height > top.Width {
		w, h = short, long
	}
	siti := fmt.Sprintf("scale=w=%d:h=%d,siti", w, h)
	n := len(l.Rungs)
	var b strings.Builder
	if n == 1 {
		fmt.Fprintf(&b, "[%s]%s,%s[%s]", FilterIn, strings.Join(chain, ","), siti, ComplexitySITI)
		return b.String()
	}
	fmt.Fprintf(&b, "[%s]%s,split=3[a0][b0][m];[m]%s[%s]", FilterIn, strings.Join(chain, ","), siti, ComplexitySITI)
	for i := 1; i < n; i++ {
		r, up := l.Rungs[i], l.Rungs[i-1]
		if i < n-1 {
			fmt.Fprintf(&b, ";[b%d]scale=w=%d:h=%d,split=3[a%d][u%d][b%d]", i-1, r.Width, r.Height, i, i, i)
		} else {
			fmt.Fprintf(&b, ";[b%d]scale=w=%d:h=%d[u%d]", i-1, r.Width, r.Height, i)
		}
		fmt.Fprintf(&b, ";[u%d]scale=w=%d:h=%d:flags=bicubic[v%d];[a%d][v%d]ssim[%s]",
			i, up.Width, up.Height, i, i-1, i, ComplexityDetail(i-1))
	}
	return b.String()
}

// ComplexitySITI is the output pad of the analysis graph carrying the siti
// figures.
const ComplexitySITI = "siti"

// ComplexityDetail returns the output pad of the analysis graph carrying
// the SSIM of rung i against rung i+1 upscaled.
func ComplexityDetail(i int) string { return fmt.Sprintf("detail%d", i) }
