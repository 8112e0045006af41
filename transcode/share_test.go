package transcode

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

var goodOverlay = Overlay{Image: "card.png", X: 0.1, Y: 0.6, Width: 0.5, StartMS: 1000, EndMS: 3000}

func overlayWith(mod func(*Overlay)) Overlay {
	o := goodOverlay
	mod(&o)
	return o
}

func TestShareSpecValidate(t *testing.T) {
	many := make([]Overlay, MaxOverlays+1)
	for i := range many {
		many[i] = goodOverlay
	}
	tests := []struct {
		name string
		spec ShareSpec
		says string // "" for a valid spec
	}{
		{"no overlays", ShareSpec{}, ""},
		{"one", ShareSpec{Overlays: []Overlay{goodOverlay}}, ""},
		{"the maximum", ShareSpec{Overlays: many[:MaxOverlays]}, ""},
		{"corners", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.X, o.Y, o.Width, o.StartMS, o.EndMS = 1, 1, 1, 0, MaxShareMS })}}, ""},
		{"unicode name", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = "café card #1.png" })}}, ""},
		{"too many", ShareSpec{Overlays: many}, "at most 64"},
		{"parent dir", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = "../x.png" })}}, "not a plain file name"},
		{"sub dir", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = "a/x.png" })}}, "not a plain file name"},
		{"backslash", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = `a\x.png` })}}, "not a plain file name"},
		{"absolute", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = "/etc/passwd" })}}, "not a plain file name"},
		{"dot", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = "." })}}, "not a plain file name"},
		{"hidden", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = ".share-spec-1.json" })}}, "not a plain file name"},
		{"empty name", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = "" })}}, "empty"},
		{"newline", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = "a\nb.png" })}}, "control"},
		{"bad UTF-8", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = "\xff.png" })}}, "invalid"},
		{"long name", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = strings.Repeat("a", 256) })}}, "longer"},
		{"NaN x", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.X = math.NaN() })}}, "position"},
		{"NaN y", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Y = math.NaN() })}}, "position"},
		{"infinite x", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.X = math.Inf(1) })}}, "position"},
		{"negative y", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Y = -0.1 })}}, "position"},
		{"x beyond", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.X = 1.01 })}}, "position"},
		{"NaN width", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Width = math.NaN() })}}, "width"},
		{"zero width", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Width = 0 })}}, "width"},
		{"wide", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Width = 1.5 })}}, "width"},
		{"negative start", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.StartMS = -1 })}}, "time window"},
		{"empty window", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.EndMS = o.StartMS })}}, "time window"},
		{"reversed window", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.StartMS, o.EndMS = 3000, 1000 })}}, "time window"},
		{"endless", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.EndMS = math.MaxInt64 })}}, "time window"},
		{"second bad", ShareSpec{Overlays: []Overlay{goodOverlay, overlayWith(func(o *Overlay) { o.Width = -1 })}}, "Overlay 1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.says == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if got := shopclip.ErrorCode(err); got != shopclip.EINVALID {
				t.Fatalf("Validate() code %q (%v), want %q", got, err, shopclip.EINVALID)
			}
			if !strings.Contains(shopclip.ErrorMessage(err), tt.says) {
				t.Errorf("Validate() message %q, want it to say %q", shopclip.ErrorMessage(err), tt.says)
			}
		})
	}
}

func TestReadShareSpec(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, json string
		ok         bool
	}{
		{"good", `{"overlays":[{"image":"card.png","x":0.1,"y":0.6,"width":0.5,"start_ms":1000,"end_ms":3000}]}`, true},
		{"empty", `{"overlays":[]}`, true},
		{"unknown field", `{"overlays":[],"filter":"movie=/etc/passwd"}`, false},
		{"unknown overlay field", `{"overlays":[{"image":"card.png","x":0,"y":0,"width":0.5,"start_ms":0,"end_ms":1,"text":"x"}]}`, false},
		{"NaN", `{"overlays":[{"image":"card.png","x":NaN,"y":0,"width":0.5,"start_ms":0,"end_ms":1}]}`, false},
		{"huge number", `{"overlays":[{"image":"card.png","x":1e400,"y":0,"width":0.5,"start_ms":0,"end_ms":1}]}`, false},
		{"invalid", `{"overlays":[{"image":"../card.png","x":0,"y":0,"width":0.5,"start_ms":0,"end_ms":1}]}`, false},
		{"two documents", `{"overlays":[]} {"overlays":[]}`, false},
		{"not JSON", `overlays`, false},
		{"too large", `{"overlays":[]}` + strings.Repeat(" ", maxSpecBytes), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(p, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadShareSpec(p)
			if tt.ok && err != nil {
				t.Errorf("ReadShareSpec: %v", err)
			}
			if !tt.ok && shopclip.ErrorCode(err) != shopclip.EINVALID {
				t.Errorf("ReadShareSpec: %v, want an EINVALID error", err)
			}
		})
	}
}

func TestPlaceCard(t *testing.T) {
	tests := []struct {
		name string
		o    Overlay
		img  Size
		want CardPlacement
	}{
		{"the test card", goodOverlay, Size{400, 250}, CardPlacement{X: 72, Y: 768, Width: 360, Height: 224, StartMS: 1000, EndMS: 3000}},
		{"pushed in from the right", overlayWith(func(o *Overlay) { o.X = 0.9 }), Size{400, 250}, CardPlacement{X: 360, Y: 768, Width: 360, Height: 224, StartMS: 1000, EndMS: 3000}},
		{"pushed up from the bottom", overlayWith(func(o *Overlay) { o.Y = 1 }), Size{400, 250}, CardPlacement{X: 72, Y: 1056, Width: 360, Height: 224, StartMS: 1000, EndMS: 3000}},
		{"odd anchor made even", overlayWith(func(o *Overlay) { o.X, o.Y = 0.0014, 0.0008 }), Size{400, 250}, CardPlacement{X: 0, Y: 0, Width: 360, Height: 224, StartMS: 1000, EndMS: 3000}},
		{"full width", overlayWith(func(o *Overlay) { o.Width = 1 }), Size{100, 100}, CardPlacement{X: 0, Y: 560, Width: 720, Height: 720, StartMS: 1000, EndMS: 3000}},
		{"taller than the frame", overlayWith(func(o *Overlay) { o.Width = 1 }), Size{10, 100}, CardPlacement{X: 72, Y: 0, Width: 128, Height: 1280, StartMS: 1000, EndMS: 3000}},
		{"a sliver", overlayWith(func(o *Overlay) { o.Width = 1e-9 }), Size{400, 250}, CardPlacement{X: 72, Y: 768, Width: 2, Height: 2, StartMS: 1000, EndMS: 3000}},
		// Unvalidated garbage still gives a card inside the frame.
		{"NaN everywhere", Overlay{X: math.NaN(), Y: math.NaN(), Width: math.NaN()}, Size{400, 250}, CardPlacement{X: 0, Y: 0, Width: 2, Height: 2}},
		{"infinities", Overlay{X: math.Inf(1), Y: math.Inf(-1), Width: math.Inf(1), StartMS: -5, EndMS: math.MaxInt64}, Size{1 << 30, 1}, CardPlacement{X: 0, Y: 0, Width: 720, Height: 2, EndMS: MaxShareMS}},
		{"empty image", Overlay{X: 2, Y: 2, Width: 2, StartMS: math.MaxInt64, EndMS: 0}, Size{}, CardPlacement{X: 0, Y: 560, Width: 720, Height: 720, StartMS: MaxShareMS, EndMS: MaxShareMS}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := placeCard(tt.o, tt.img, 720, 1280); got != tt.want {
				t.Errorf("placeCard = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// shareProbe is a 720×1280 30 fps H.264 clip as the engine makes them.
func shareProbe(w, h int) Probe {
	return Probe{
		Container:  "mov,mp4,m4a,3gp,3g2,mj2",
		DurationMS: 5000,
		Streams:    []StreamInfo{{Index: 0, Kind: KindVideo, Codec: "h264"}, {Index: 1, Kind: KindAudio, Codec: "aac"}},
		Video: &VideoInfo{Codec: "h264", CodedWidth: w, CodedHeight: h, Width: w, Height: h,
			AvgFPS: Rational{30, 1}, RFPS: Rational{30, 1}, PixFmt: "yuv420p", ColorRange: "tv"},
		Audio: &AudioInfo{Index: 1, Codec: "aac", Channels: 2, SampleRate: 48000},
	}
}

func TestPlanShare(t *testing.T) {
	spec := ShareSpec{Overlays: []Overlay{goodOverlay}}
	tests := []struct {
		w, h          int
		wantW, wantH  int
		wantMaxRate   int64
		wantRungName  string
		wantFrameRate Rational
	}{
		{720, 1280, 720, 1280, 2_500_000, "720p", Rational{30, 1}},
		{1080, 1920, 1080, 1920, 4_500_000, "1080p", Rational{30, 1}},
		{1280, 720, 1280, 720, 2_500_000, "720p", Rational{30, 1}},
		{540, 960, 540, 960, 2_500_000, "540p", Rational{30, 1}}, // the 720p rung's caps: the smallest rung at least as large
		{480, 854, 480, 854, 1_000_000, "480p", Rational{30, 1}},
		{2160, 3840, 2160, 3840, 4_500_000, "2160p", Rational{30, 1}}, // larger than every rung: the largest rung's caps
		{721, 1281, 720, 1280, 2_500_000, "720p", Rational{30, 1}},    // odd: made even
	}
	for _, tt := range tests {
		plan, err := PlanShare(shareProbe(tt.w, tt.h), spec, []Size{{400, 250}}, Config{})
		if err != nil {
			t.Fatalf("%dx%d: %v", tt.w, tt.h, err)
		}
		l := plan.Ladder
		if len(l.Rungs) != 1 {
			t.Fatalf("%dx%d: rungs %+v, want one", tt.w, tt.h, l.Rungs)
		}
		r := l.Rungs[0]
		if r.Width != tt.wantW || r.Height != tt.wantH || r.MaxRate != tt.wantMaxRate || r.BufSize != 2*tt.wantMaxRate || r.Name != tt.wantRungName || r.FrameRate != tt.wantFrameRate {
			t.Errorf("%dx%d: rung %+v, want %s %dx%d at %v max %d", tt.w, tt.h, r, tt.wantRungName, tt.wantW, tt.wantH, tt.wantFrameRate, tt.wantMaxRate)
		}
		if l.Codec != "libx264" || l.Preset != "veryfast" || l.CRF != 23 || l.Profile != "high" || l.PixFmt != "yuv420p" || l.KeyframeIntervalMS != 2000 {
			t.Errorf("%dx%d: encoder settings %s %s crf %d %s %s gop %d ms", tt.w, tt.h, l.Codec, l.Preset, l.CRF, l.Profile, l.PixFmt, l.KeyframeIntervalMS)
		}
		if l.Audio != nil || l.MP4 != nil || l.Storyboard != nil || l.Prescale != nil {
			t.Errorf("%dx%d: a share ladder with audio, MP4, storyboard or prescale: %+v", tt.w, tt.h, l)
		}
		if len(plan.Cards) != 1 || plan.Cards[0].X+plan.Cards[0].Width > r.Width || plan.Cards[0].Y+plan.Cards[0].Height > r.Height {
			t.Errorf("%dx%d: cards %+v", tt.w, tt.h, plan.Cards)
		}
	}

	// Inputs outside the limits get their media error; a mismatch of
	// images and overlays is a bug.
	if _, err := PlanShare(Probe{Streams: []StreamInfo{{Kind: KindAudio, Codec: "aac"}}}, spec, []Size{{1, 1}}, Config{}); shopclip.ErrorCode(err) != shopclip.EMEDIANOVIDEO {
		t.Errorf("audio only: %v, want %s", err, shopclip.EMEDIANOVIDEO)
	}
	long := shareProbe(720, 1280)
	long.DurationMS = int64(10 * time.Minute / time.Millisecond)
	if _, err := PlanShare(long, spec, []Size{{1, 1}}, Config{}); shopclip.ErrorCode(err) != shopclip.EMEDIADURATION {
		t.Errorf("10 min: %v, want %s", err, shopclip.EMEDIADURATION)
	}
	if _, err := PlanShare(shareProbe(720, 1280), spec, nil, Config{}); err == nil {
		t.Error("no card sizes for one overlay: no error")
	}
}

// filterToken is everything a share filter description may hold: fixed
// filter and option names, numbers, pad labels and the enable expression.
var filterToken = regexp.MustCompile(`^[a-z0-9_=:;,.'()\[\]]+$`)

// TestShareFilterHostile builds the filter description from hostile
// overlays (names crafted to inject filters, numbers out of every range)
// and checks it holds nothing but fixed names and numbers computed here
// (RELIABILITY §1.10).
func TestShareFilterHostile(t *testing.T) {
	names := []string{
		"x',movie=/etc/passwd[m];[m]null,drawtext=text='y.png",
		"a[in]b;[out]c.png", "%s%n%d.png", "card.png:enable=1", "ＳＨＯＰ.png", "\\',.png",
	}
	hostile := []Overlay{
		{X: math.NaN(), Y: math.Inf(1), Width: math.Inf(-1), StartMS: math.MinInt64, EndMS: math.MaxInt64},
		{X: -1e308, Y: 1e308, Width: 1e-308, StartMS: math.MaxInt64, EndMS: math.MinInt64},
		{X: 0.5, Y: 0.5, Width: 0.999999999, StartMS: 1, EndMS: 2},
		{X: 1, Y: 1, Width: 1, StartMS: 0, EndMS: MaxShareMS},
	}
	sizes := []Size{{0, 0}, {1, 1 << 30}, {1 << 30, 1}, {-5, 7}, {2048, 2048}, {3, 5}}
	for _, p := range []Probe{shareProbe(720, 1280), rotated(shareProbe(1280, 720)), fullRange(shareProbe(1920, 1080))} {
		plan, err := PlanShare(p, ShareSpec{}, nil, Config{})
		if err != nil {
			t.Fatal(err)
		}
		r := plan.Ladder.Rungs[0]
		for i := range 64 {
			o := hostile[i%len(hostile)]
			o.Image = names[i%len(names)]
			plan.Cards = append(plan.Cards, placeCard(o, sizes[i%len(sizes)], r.Width, r.Height))
		}
		desc := plan.VideoFilter()
		t.Logf("%dx%d: %.300s…", r.Width, r.Height, desc)
		if !filterToken.MatchString(desc) {
			t.Errorf("filter description holds characters outside the allowed set: %q", desc)
		}
		for _, n := range names {
			if strings.Contains(desc, strings.TrimSuffix(n, ".png")) {
				t.Errorf("filter description holds the image name %q", n)
			}
		}
		if got := strings.Count(desc, "overlay="); got != 64 {
			t.Errorf("%d overlay filters, want 64", got)
		}
		if got := strings.Count(desc, ";"); got != 2*64+1 {
			t.Errorf("%d chains, want %d: an overlay broke the graph's structure", got+1, 2*64+2)
		}
		for _, c := range plan.Cards {
			if c.X < 0 || c.Y < 0 || c.Width < 2 || c.Height < 2 || c.X+c.Width > r.Width || c.Y+c.Height > r.Height ||
				c.X%2+c.Y%2+c.Width%2+c.Height%2 != 0 || c.StartMS < 0 || c.EndMS < c.StartMS || c.EndMS > MaxShareMS {
				t.Errorf("card %+v does not fit the %dx%d frame", c, r.Width, r.Height)
			}
		}
	}
}

func rotated(p Probe) Probe {
	p.Video.DisplayMatrix = []int32{0, 1 << 16, 0, -1 << 16, 0, 0, 0, 0, 1 << 30}
	p.Video.Width, p.Video.Height = p.Video.Height, p.Video.Width
	return p
}

func fullRange(p Probe) Probe {
	p.Video.ColorRange, p.Video.ColorSpace = "pc", "bt709"
	return p
}

// TestShareFilter pins the description of one card on a plain clip.
func TestShareFilter(t *testing.T) {
	plan, err := PlanShare(shareProbe(720, 1280), ShareSpec{Overlays: []Overlay{goodOverlay}}, []Size{{400, 250}}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := "[in]scale=w=720:h=1280,format=yuv420p,setsar=1[v0]" +
		";[card0]scale=w=360:h=224:out_color_matrix=bt601:out_range=tv,format=yuva420p[k0]" +
		";[v0][k0]overlay=x=72:y=768:eof_action=repeat:enable='if(lt(t,3.000),gte(t,1.000))'[v1]" +
		";[v1]format=yuv420p[out0]"
	if got := plan.VideoFilter(); got != want {
		t.Errorf("VideoFilter:\ngot  %s\nwant %s", got, want)
	}
}

func writeTestPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.NRGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadCard(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	writeTestPNG(t, filepath.Join(dir, "card.png"), 40, 25)
	writeTestPNG(t, filepath.Join(dir, "wide.png"), MaxCardSide+1, 1)
	writeTestPNG(t, filepath.Join(outside, "secret.png"), 4, 4)
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 40, 25)))
	os.WriteFile(filepath.Join(dir, "truncated.png"), b.Bytes()[:40], 0o644)
	os.WriteFile(filepath.Join(dir, "text.png"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(dir, "big.png"), make([]byte, MaxCardBytes+1), 0o644)
	os.Mkdir(filepath.Join(dir, "dir.png"), 0o755)
	os.Symlink(filepath.Join(outside, "secret.png"), filepath.Join(dir, "escape.png"))
	os.Symlink("card.png", filepath.Join(dir, "alias.png"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()

	tests := []struct {
		name      string
		checkSays string // "" when CheckCard accepts it
		loadSays  string // "" when LoadCard accepts it
	}{
		{"card.png", "", ""},
		{"alias.png", "", ""}, // a link inside the job dir
		{"truncated.png", "", "not a readable PNG"},
		{"gone.png", "not in the job dir", "not in the job dir"},
		{"escape.png", "cannot be opened", "cannot be opened"},
		{"../" + filepath.Base(outside) + "/secret.png", "not a plain file name", "not a plain file name"},
		{"text.png", "not a PNG", "not a PNG"},
		{"wide.png", "at most 2048", "at most 2048"},
		{"big.png", "larger than", "larger than"},
		{"dir.png", "not a regular file", "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size, err := CheckCard(root, tt.name)
			checkErr(t, "CheckCard", err, tt.checkSays)
			if err == nil && size != (Size{40, 25}) {
				t.Errorf("CheckCard size %+v, want 40x25", size)
			}
			img, err := LoadCard(root, tt.name)
			checkErr(t, "LoadCard", err, tt.loadSays)
			if err == nil && img.Bounds() != image.Rect(0, 0, 40, 25) {
				t.Errorf("LoadCard bounds %v", img.Bounds())
			}
		})
	}
}

func checkErr(t *testing.T, op string, err error, says string) {
	t.Helper()
	if says == "" {
		if err != nil {
			t.Errorf("%s: %v", op, err)
		}
		return
	}
	if shopclip.ErrorCode(err) != shopclip.EINVALID || !strings.Contains(shopclip.ErrorMessage(err), says) {
		t.Errorf("%s: %v, want EINVALID saying %q", op, err, says)
	}
}

// TestRunnerShareProtocol runs Share against the fake child: the spec
// reaches it as a file in the job dir (removed after), the output and input
// as absolute paths in it, the cwd is the job dir, and the outcomes map as
// Run's do, with the child's EINVALID kept.
func TestRunnerShareProtocol(t *testing.T) {
	dir := t.TempDir()
	writeTestPNG(t, filepath.Join(dir, "card.png"), 40, 25)
	spec := ShareSpec{Overlays: []Overlay{goodOverlay, overlayWith(func(o *Overlay) { o.X = 0.5 })}}
	rep, err := fakeRunner(t, "share", nil).Share(context.Background(), dir, "clip.mp4", "share.mp4", spec)
	if err != nil {
		t.Fatalf("Share: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "share.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	var seen struct {
		Spec    ShareSpec `json:"spec"`
		Cwd     string    `json:"cwd"`
		SpecDir string    `json:"spec_dir"`
		OutDir  string    `json:"out_dir"`
		Input   string    `json:"input"`
	}
	if err := json.Unmarshal(b, &seen); err != nil {
		t.Fatal(err)
	}
	if len(seen.Spec.Overlays) != 2 || seen.Spec.Overlays[1].X != 0.5 || seen.Cwd != dir || seen.SpecDir != dir || seen.OutDir != "" || seen.Input != filepath.Join(dir, "clip.mp4") {
		t.Errorf("the child saw %+v", seen)
	}
	if rep.Width != 720 || rep.Bytes != int64(len(b)) {
		t.Errorf("report %+v", rep)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("job dir holds %v, want card.png and share.mp4 (no spec file left)", entries)
	}

	tests := []struct {
		name, mode, in, out string
		spec                ShareSpec
		code                string
		says                string
	}{
		{"invalid in the child", "share-invalid", "clip.mp4", "s.mp4", spec, shopclip.EINVALID, "not a readable PNG"},
		{"media error", "media", "clip.mp4", "s.mp4", spec, shopclip.EMEDIADECODE, "No picture"},
		{"crash", "crash", "clip.mp4", "s.mp4", spec, shopclip.EMEDIACRASH, "crashed"},
		{"missing image", "share", "clip.mp4", "s.mp4", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.Image = "gone.png" })}}, shopclip.EINVALID, "not in the job dir"},
		{"invalid spec", "share", "clip.mp4", "s.mp4", ShareSpec{Overlays: []Overlay{overlayWith(func(o *Overlay) { o.X = math.NaN() })}}, shopclip.EINVALID, "position"},
		{"input outside", "share", "../clip.mp4", "s.mp4", spec, shopclip.EINTERNAL, "not a path inside the job dir"},
		{"output outside", "share", "clip.mp4", "/tmp/s.mp4", spec, shopclip.EINTERNAL, "not a path inside the job dir"},
		{"output is input", "share", "clip.mp4", "./clip.mp4", spec, shopclip.EINTERNAL, "both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fakeRunner(t, tt.mode, nil).Share(context.Background(), dir, tt.in, tt.out, tt.spec)
			if got := shopclip.ErrorCode(err); got != tt.code || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Share: code %q (%v), want %q saying %q", got, err, tt.code, tt.says)
			}
		})
	}
}

// TestRunnerShareDeadline: the probe sizes the deadline at WallFloor + half
// of WallPerSecond × the duration: 1 + 0.5 × 2 × 1 = 2 s kills a child
// taking 3 s; 1 + 0.5 × 20 × 1 = 11 s does not.
func TestRunnerShareDeadline(t *testing.T) {
	dir := t.TempDir()
	r := fakeRunner(t, "slow-probe", nil)
	r.Limits.WallFloor, r.Limits.WallPerSecond = time.Second, 2
	_, err := r.Share(context.Background(), dir, "clip.mp4", "share.mp4", ShareSpec{})
	if got := shopclip.ErrorCode(err); got != shopclip.EMEDIALIMIT {
		t.Errorf("code %q (%v), want %q", got, err, shopclip.EMEDIALIMIT)
	}
	r.Limits.WallPerSecond = 20
	if _, err := r.Share(context.Background(), dir, "clip.mp4", "share.mp4", ShareSpec{}); err != nil {
		t.Errorf("Share with an 11 s deadline: %v", err)
	}
}
