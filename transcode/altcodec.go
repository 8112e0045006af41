package transcode

import "math"

// AltLadder is the ladder of a codec other than H.264 (Config.Codecs after
// "h264"): the same rungs as the H.264 ladder — sizes, frame rates, the
// very frames the filter graph made for them, encoded a second time by
// another encoder — named after the rung and the codec ("720p-av1"), with
// rate caps scaled from the H.264 rung's (see Rung). Its variants are
// listed in the same master playlist, with the same audio group and the
// same segment schedule.
type AltLadder struct {
	Codec   string `json:"codec"`   // "av1" or "hevc"
	Encoder string `json:"encoder"` // FFmpeg encoder name: "libsvtav1", "libx265"
	Preset  string `json:"preset"`  // the encoder's preset ("12" for SVT-AV1, "superfast" for x265)
	CRF     int    `json:"crf"`
	PixFmt  string `json:"pix_fmt"` // "yuv420p"
	// RateFactor scales the H.264 rung's VBV max rate and buffer.
	RateFactor float64 `json:"rate_factor"`
}

// Rung returns the rung of this codec made from the frames of the H.264
// rung h: its size and frame rate, its name with the codec's ("720p-av1"),
// its rate caps scaled by RateFactor. It is derived from h whenever it is
// needed, so it follows whatever changed h after Plan (content-aware rungs).
// The encoder uses the ladder's CRF, not h's.
func (a AltLadder) Rung(h Rung) Rung {
	r := h
	r.Name += "-" + a.Codec
	r.MaxRate = int64(math.Round(float64(h.MaxRate) * a.RateFactor))
	r.BufSize = int64(math.Round(float64(h.BufSize) * a.RateFactor))
	return r
}

// AltSettings are the fixed encoder settings of a second codec.
type AltSettings struct {
	Encoder string
	Preset  string
	CRF     int
	// RateFactor scales the H.264 rung's rate cap (VBV max rate and
	// buffer) for this codec, which needs fewer bits for the same quality.
	RateFactor float64
}

// altCodecs holds the settings of each second codec, chosen on the
// benchmark clip (shared/bench, 10 s at 720×1280) to land near the SSIM of
// H.264 at libx264 veryfast CRF 23 (0.9930) at the lowest CPU cost:
//
//   - AV1, SVT-AV1 preset 12 (its fastest but one: about 1.9× the CPU of
//     libx264 veryfast here; preset 10 costs 2.7×), CRF 32: SSIM 0.9925
//     with 44% fewer bytes (CRF 30: 0.9930, 35% fewer; CRF 35: 0.9919, 55%
//     fewer). Rate caps at 60% of H.264's.
//   - HEVC, x265 superfast, CRF 22 (ultrafast loses more SSIM than it
//     saves bytes). Rate caps at 70% of H.264's.
var altCodecs = map[string]AltSettings{
	CodecAV1:  {Encoder: "libsvtav1", Preset: "12", CRF: 32, RateFactor: 0.6},
	CodecHEVC: {Encoder: "libx265", Preset: "superfast", CRF: 22, RateFactor: 0.7},
}

// AltCodec returns the settings of a second codec ("av1", "hevc"), nil for
// an unknown name or "h264".
func AltCodec(name string) *AltSettings {
	s, ok := altCodecs[name]
	if !ok {
		return nil
	}
	return &s
}

// Encoders returns the FFmpeg encoders a transcode with c needs, libx264
// first: the engine checks at start that its FFmpeg build has them.
func (c Config) Encoders() []string {
	c = c.WithDefaults()
	encs := []string{"libx264"}
	for _, name := range c.Codecs[1:] {
		if s := AltCodec(name); s != nil {
			encs = append(encs, s.Encoder)
		}
	}
	return encs
}

// planAlt adds the ladders of c's second codecs.
func (l *Ladder) planAlt(c Config) {
	for _, name := range c.Codecs[1:] {
		s := AltCodec(name)
		l.Alt = append(l.Alt, AltLadder{Codec: name, Encoder: s.Encoder, Preset: s.Preset, CRF: s.CRF, PixFmt: "yuv420p", RateFactor: s.RateFactor})
	}
}

// VideoRungs returns every video rendition of the ladder in the order of
// the master playlist: the second codecs' rungs first (in the order of
// Config.Codecs), largest first, then the H.264 rungs. Players pick among
// the variants whose CODECS they can decode: Safari starts with the first
// one it can play, so listing the more efficient codecs first makes the
// players that can decode them prefer them (hls.js prefers them anyway, by
// codec, whatever the order), and the others ignore them.
func (l *Ladder) VideoRungs() []Rung {
	var rs []Rung
	for _, a := range l.Alt {
		for _, h := range l.Rungs {
			rs = append(rs, a.Rung(h))
		}
	}
	return append(rs, l.Rungs...)
}
