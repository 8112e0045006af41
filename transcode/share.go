package transcode

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/shopclip/shopclip"
)

// A share render is a clip's progressive MP4 with product cards burned into
// its picture, for sharing outside the storefront (where the interactive
// overlays do not exist). The engine (ffmpeg.BurnIn, in the child process)
// decodes the MP4's video, overlays each card during its time window,
// re-encodes with the ladder's encoder settings, copies the audio packets
// unchanged and writes a faststart MP4 of the same size.

// Overlay is an image burned into a share render at a position and a time window.
type Overlay struct {
	// Image is the PNG file name inside the job dir: a plain base name, no
	// slashes, not starting with a dot.
	Image string `json:"image"`
	// X and Y anchor the card's top-left corner at (X×frameW, Y×frameH),
	// both in 0..1; the card is moved as little as needed to stay inside
	// the frame.
	X float64 `json:"x"`
	Y float64 `json:"y"`
	// Width is the card's width as a fraction of the frame width
	// (0 < Width ≤ 1); its height keeps the image's aspect (and the card
	// shrinks to fit a frame it would be taller than).
	Width float64 `json:"width"`
	// StartMS and EndMS bound the window of the video's presentation time
	// in which the card is shown: StartMS ≤ t < EndMS.
	StartMS int64 `json:"start_ms"`
	EndMS   int64 `json:"end_ms"`
}

// ShareSpec is a share render's overlays, drawn in order (a later card
// covers an earlier one).
type ShareSpec struct {
	Overlays []Overlay `json:"overlays"`
}

// Bounds of a ShareSpec.
const (
	// MaxOverlays bounds the overlays of one share render.
	MaxOverlays = 64
	// MaxShareMS bounds an overlay's end time: a day, far beyond any clip.
	MaxShareMS = 24 * 60 * 60 * 1000
	// maxImageName bounds an overlay image's name, in bytes.
	maxImageName = 255
	// maxSpecBytes bounds a share spec's JSON file.
	maxSpecBytes = 1 << 20
)

// Validate checks s: at most MaxOverlays overlays, each with a plain image
// name, finite X and Y in 0..1, a finite Width in (0, 1] and a non-empty
// time window within 0..MaxShareMS. Its error is a *shopclip.Error with code
// EINVALID naming the first bad overlay.
func (s ShareSpec) Validate() error {
	if len(s.Overlays) > MaxOverlays {
		return shopclip.Errorf(shopclip.EINVALID, "A share render takes at most %d overlays, not %d.", MaxOverlays, len(s.Overlays))
	}
	for i, o := range s.Overlays {
		if msg := o.problem(); msg != "" {
			return shopclip.Errorf(shopclip.EINVALID, "Overlay %d: %s", i, msg)
		}
	}
	return nil
}

// problem describes what is wrong with o, "" when nothing is.
func (o Overlay) problem() string {
	if msg := imageNameProblem(o.Image); msg != "" {
		return msg
	}
	inUnit := func(v float64) bool { return !math.IsNaN(v) && v >= 0 && v <= 1 } // false for ±Inf too
	switch {
	case !inUnit(o.X) || !inUnit(o.Y):
		return fmt.Sprintf("the position (%g, %g) is not a pair of fractions of the frame in 0..1.", o.X, o.Y)
	case !inUnit(o.Width) || o.Width == 0:
		return fmt.Sprintf("the width %g is not a fraction of the frame width in (0, 1].", o.Width)
	case o.StartMS < 0 || o.EndMS <= o.StartMS || o.EndMS > MaxShareMS:
		return fmt.Sprintf("the time window %d..%d ms is not a non-empty window within 0..%d ms.", o.StartMS, o.EndMS, int64(MaxShareMS))
	}
	return ""
}

// imageNameProblem checks an overlay image's name: a plain file name in
// the job dir (no path separator, no dot first, which also keeps it apart
// from the share spec's own hidden file), valid UTF-8 without control
// characters. It returns what is wrong, "" when nothing is.
func imageNameProblem(name string) string {
	switch {
	case name == "":
		return "the image name is empty."
	case len(name) > maxImageName:
		return fmt.Sprintf("the image name is longer than %d bytes.", maxImageName)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Sprintf("the image name %q holds invalid or control characters.", name)
	case strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || !filepath.IsLocal(name):
		return fmt.Sprintf("the image name %q is not a plain file name in the job dir.", name)
	}
	return ""
}

// ReadShareSpec reads and validates the ShareSpec JSON file at path (at most
// 1 MiB; unknown fields are errors). A malformed or invalid spec gives
// EINVALID.
func ReadShareSpec(path string) (ShareSpec, error) {
	var s ShareSpec
	f, err := os.Open(path)
	if err != nil {
		return s, fmt.Errorf("transcode: share spec: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
	if err != nil {
		return s, fmt.Errorf("transcode: share spec: %w", err)
	}
	if len(b) > maxSpecBytes {
		return s, shopclip.Errorf(shopclip.EINVALID, "The share spec is larger than %d bytes.", maxSpecBytes)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, shopclip.Errorf(shopclip.EINVALID, "The share spec is not valid JSON: %s.", err)
	}
	if dec.More() {
		return s, shopclip.Errorf(shopclip.EINVALID, "The share spec holds more than one JSON document.")
	}
	return s, s.Validate()
}

// ShareReport is the child's JSON report of a share render (and what
// `shopclip share` prints). On failure only Error is certain to be set.
type ShareReport struct {
	// DurationMS is where the made video ends, in presentation time; Width
	// and Height its picture, the input's (displayed, even).
	DurationMS int64 `json:"duration_ms,omitempty"`
	Width      int   `json:"width,omitempty"`
	Height     int   `json:"height,omitempty"`
	// Bytes is the size of the output file.
	Bytes int64 `json:"bytes,omitempty"`
	// Frames counts the video frames encoded; Audio says the input's audio
	// was copied.
	Frames int64 `json:"frames,omitempty"`
	Audio  bool  `json:"audio,omitempty"`
	// Timings are the wall-clock milliseconds per stage ("open", "render",
	// "total").
	Timings map[string]int64 `json:"timings_ms,omitempty"`

	// Error is set when the render failed.
	Error *shopclip.Error `json:"error,omitempty"`
}

// shareWallShare is the share of Limits.WallPerSecond a share render gets:
// it encodes one rendition, where a transcode encodes a ladder.
const shareWallShare = 0.5

// Share runs a share render in a child process, sandboxed like Run: in is
// the input MP4 and out the output file name, both relative to dir (the job
// dir, the child's cwd); the spec is written to dir as JSON (a hidden
// temporary file, removed at the end) and the overlay images must already
// be in dir. The output is written under a temporary name and renamed to
// out when complete, so a failed render leaves no out file.
//
// Before starting the child, Share checks the spec (Validate) and that each
// image is a regular PNG file in dir of a bounded size (CheckCard): those
// errors, and an image the child cannot decode, carry EINVALID. The other
// outcomes are Run's: a media error code when the input is unusable (an
// input that is not an MP4 gets EMEDIAFORMAT), EMEDIALIMIT, EMEDIACRASH, a
// wrapped ctx.Err(), or a plain internal error. The wall-clock deadline is
// Limits.WallFloor + half of Limits.WallPerSecond × the clip's duration.
func (r *Runner) Share(ctx context.Context, dir, in, out string, spec ShareSpec) (*ShareReport, error) {
	limits := r.Limits.WithDefaults()
	log := r.logger().With("input", filepath.Base(in), "output", filepath.Base(out))
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := r.Config.Validate(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("transcode: share: job dir %q: %w", dir, err)
	}
	for _, name := range []string{in, out} {
		if !filepath.IsLocal(name) {
			return nil, fmt.Errorf("transcode: share: %q is not a path inside the job dir", name)
		}
	}
	inPath, outPath := filepath.Join(dir, in), filepath.Join(dir, out)
	if inPath == outPath {
		return nil, fmt.Errorf("transcode: share: the input and the output are both %q", in)
	}
	if err := checkCards(dir, spec); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transcode: share: %w", err)
	}

	specFile, err := writeShareSpec(dir, spec)
	if err != nil {
		return nil, err
	}
	defer os.Remove(specFile)
	req := ChildRequest{Input: inPath, Output: outPath, Share: specFile, EventsFD: 3, Config: r.Config, Rlimits: limits.rlimits(), LogLevel: "info"}
	args, err := req.Args()
	if err != nil {
		return nil, err
	}
	// The child writes its output in the job dir; what it reads is
	// read-only (the input and the images may be hard links into the blob
	// store).
	m := mounts{rw: []string{dir}, ro: []string{inPath, specFile}}
	for _, img := range spec.images() {
		m.ro = append(m.ro, filepath.Join(dir, img))
	}
	run, err := r.runChild(ctx, log, args, dir, m, shareWallShare*limits.WallPerSecond, nil)
	if err != nil {
		return nil, err
	}
	rep, err := decodeChild(run.state, run.stdout, run.stderrTail, func(r *ShareReport) *shopclip.Error { return r.Error })
	if err != nil {
		run.logFailure(ctx, log, "share render failed", err)
		return rep, err
	}
	log.InfoContext(ctx, "share render done", "elapsed", run.elapsed, "overlays", len(spec.Overlays), "bytes", rep.Bytes)
	return rep, nil
}

// images returns the distinct image names of the spec's overlays.
func (s ShareSpec) images() []string {
	var names []string
	seen := map[string]bool{}
	for _, o := range s.Overlays {
		if !seen[o.Image] {
			seen[o.Image] = true
			names = append(names, o.Image)
		}
	}
	return names
}

// checkCards checks every image the spec names with CheckCard.
func checkCards(dir string, spec ShareSpec) error {
	if len(spec.Overlays) == 0 {
		return nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("transcode: share: open job dir: %w", err)
	}
	defer root.Close()
	seen := map[string]bool{}
	for _, o := range spec.Overlays {
		if seen[o.Image] {
			continue
		}
		seen[o.Image] = true
		if _, err := CheckCard(root, o.Image); err != nil {
			return err
		}
	}
	return nil
}

// writeShareSpec writes spec as JSON to a new hidden file in dir (overlay
// image names never start with a dot, so it cannot collide with one) and
// returns its path.
func writeShareSpec(dir string, spec ShareSpec) (string, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("transcode: share: encode spec: %w", err)
	}
	f, err := os.CreateTemp(dir, ".share-spec-*.json")
	if err != nil {
		return "", fmt.Errorf("transcode: share: write spec: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("transcode: share: write spec: %w", err)
	}
	return f.Name(), nil
}
