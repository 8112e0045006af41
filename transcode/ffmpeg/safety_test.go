package ffmpeg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// TestUnusedOptionsCatchTypos checks a misspelt option fails loudly
// instead of silently not applying (RELIABILITY B9): libav leaves unknown
// keys in the dictionary, and the engine checks after every open.
func TestUnusedOptionsCatchTypos(t *testing.T) {
	src := media(t, "h264_noaudio_480x270_koala.mp4")

	fc := astiav.AllocFormatContext()
	d := astiav.NewDictionary()
	defer d.Free()
	if err := setAll(d, map[string]string{"protocol_whitelistt": "file", "format_whitelist": "mov"}); err != nil {
		t.Fatal(err)
	}
	if err := fc.OpenInput("file:"+src, nil, d); err != nil {
		t.Fatalf("OpenInput: %v", err)
	}
	defer func() { fc.CloseInput(); fc.Free() }()
	err := unusedOptions("open input", d)
	if err == nil || !strings.Contains(err.Error(), "protocol_whitelistt") || strings.Contains(err.Error(), "format_whitelist") {
		t.Errorf("unusedOptions = %v, want it to name protocol_whitelistt only", err)
	}

	codec := astiav.FindEncoderByName("libx264")
	enc := astiav.AllocCodecContext(codec)
	defer enc.Free()
	enc.SetWidth(64)
	enc.SetHeight(64)
	enc.SetPixelFormat(astiav.PixelFormatYuv420P)
	enc.SetTimeBase(astiav.NewRational(1, 25))
	ed := astiav.NewDictionary()
	defer ed.Free()
	if err := setAll(ed, map[string]string{"crff": "23", "preset": "ultrafast"}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Open(codec, ed); err != nil {
		t.Fatalf("open encoder: %v", err)
	}
	if err := unusedOptions("open encoder", ed); err == nil || !strings.Contains(err.Error(), "crff") {
		t.Errorf("unusedOptions = %v, want it to name crff", err)
	}
}

// TestCPointers checks the go-astiav v0.16.0 layout cptr relies on.
func TestCPointers(t *testing.T) {
	f := astiav.AllocFrame()
	defer f.Free()
	if cptr(f) != f.UnsafePointer() {
		t.Fatal("cptr(Frame) differs from Frame.UnsafePointer")
	}
	in, err := openInput(context.Background(), media(t, "iphone_h264_aac_568x320_rotm90_gps.mov"), transcode.DefaultConfig().Limits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if got := int(cFormat(in.fc).nb_streams); got != in.fc.NbStreams() {
		t.Errorf("nb_streams through cptr = %d, go-astiav says %d", got, in.fc.NbStreams())
	}
	if got := int(cStream(in.video).index); got != in.video.Index() {
		t.Errorf("stream index through cptr = %d, go-astiav says %d", got, in.video.Index())
	}
}

func TestProbeFile(t *testing.T) {
	p, err := ProbeFile(context.Background(), media(t, "iphone_h264_aac_568x320_rotm90_gps.mov"))
	if err != nil {
		t.Fatal(err)
	}
	v := p.Video
	if v == nil || v.Codec != "h264" || v.CodedWidth != 568 || v.CodedHeight != 320 || v.Width != 320 || v.Height != 568 || v.Rotation != 90 {
		t.Errorf("video %+v, want h264 568x320 shown 320x568, rotated 90", v)
	}
	if p.Audio == nil || p.Audio.Codec != "aac" || p.Audio.Channels != 1 || p.Audio.SampleRate != 44100 {
		t.Errorf("audio %+v", p.Audio)
	}
	var data int
	for _, s := range p.Streams {
		if s.Kind == transcode.KindData {
			data++
		}
	}
	if data != 2 {
		t.Errorf("%d data streams, want the 2 metadata tracks", data)
	}
}

// TestDecoderWhitelist checks the codec_whitelist names the decoders FFmpeg
// really uses, and only those of the allowed codecs.
func TestDecoderWhitelist(t *testing.T) {
	got := strings.Split(decoderWhitelist(transcode.DefaultConfig().Limits), ",")
	for _, want := range []string{"h264", "hevc", "vp9", "aac", "opus",
		"prores", "dnxhd", "mpeg2video", "mpeg1video", "mjpeg", "mp2", "pcm_s24le", "pcm_s24be", "pcm_s16le", "pcm_s16be"} {
		if !contains(got, want) {
			t.Errorf("whitelist %v lacks %s", got, want)
		}
	}
	for _, no := range []string{"ffv1", "snow", "msmpeg4v3", "dvvideo", "pcm_f32le", "subrip", "dvdsub"} {
		if contains(got, no) {
			t.Errorf("whitelist %v allows %s", got, no)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestVerifyHLSFailsOnDamage checks VerifyHLS notices a damaged rendition.
func TestVerifyHLSFailsOnDamage(t *testing.T) {
	rep, out, err := transcodeFile(t, "h264_noaudio_480x270_koala.mp4", transcode.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pl := filepath.Join(out, rep.Renditions[0].Name, transcode.PlaylistName)
	good, err := VerifyHLS(context.Background(), pl)
	if err != nil || good.DecodeErrors != 0 {
		t.Fatalf("VerifyHLS before damage: %+v, %v", good, err)
	}
	seg := filepath.Join(out, rep.Renditions[0].Name, "seg_00001.m4s")
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	// Overwrite the middle of the segment's media data with garbage.
	for i := len(b) / 3; i < len(b)*2/3; i++ {
		b[i] = byte(i * 7)
	}
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	bad, err := VerifyHLS(context.Background(), pl)
	if err == nil && bad.DecodeErrors == 0 && bad.Frames == good.Frames {
		t.Errorf("VerifyHLS of a damaged segment: %+v, no sign of damage", bad)
	}
}

func TestEncoderThreads(t *testing.T) {
	l, err := transcode.Plan(transcode.Probe{
		Streams: []transcode.StreamInfo{{Kind: transcode.KindVideo, Codec: "h264"}},
		Video: &transcode.VideoInfo{Codec: "h264", CodedWidth: 1080, CodedHeight: 1920, Width: 1080, Height: 1920,
			AvgFPS: transcode.Rational{Num: 30, Den: 1}, RFPS: transcode.Rational{Num: 30, Den: 1}, PixFmt: "yuv420p"},
	}, transcode.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for cores, want := range map[int][]int{1: {1, 1, 1}, 2: {2, 1, 1}, 8: {7, 3, 1}} {
		var got []int
		for i := range l.Rungs {
			got = append(got, encoderThreads(l.Rungs, i, cores))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%d cores: threads %v, want %v", cores, got, want)
		}
	}
}
