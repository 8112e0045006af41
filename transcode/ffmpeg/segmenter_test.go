package ffmpeg

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// TestSegmenterMatchesHLSMuxer muxes the same packets — a real clip's H.264
// and AAC streams, remuxed — with FFmpeg's hls muxer as the engine used it
// before the segmenter, and with the segmenter cutting at the same places
// (segments of equal length, which the hls muxer can cut): the init and
// media segments must be the same bytes and the playlists list the same
// segments with the same durations. So a finished out dir is what it was,
// but for the shorter first segment.
func TestSegmenterMatchesHLSMuxer(t *testing.T) {
	ensureLogging()
	in, err := openInput(context.Background(), media(t, "gopro_h264_aac_854x480_gpmf_karma.mp4"), transcode.DefaultConfig().Limits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if in.video == nil || in.audio == nil {
		t.Fatal("want a clip with video and audio")
	}
	const segmentMS = 2000
	l := &transcode.Ladder{
		Rungs:              []transcode.Rung{{Name: "video", Width: 854, Height: 480, FrameRate: transcode.Rational{Num: 30, Den: 1}, MaxRate: 1e6, BufSize: 2e6}},
		Audio:              &transcode.AudioPlan{Name: transcode.AudioName, Group: transcode.AudioGroup, Codec: "aac", Bitrate: 128_000, SampleRate: 48_000, Channels: 2},
		KeyframeIntervalMS: segmentMS,
		SegmentDurationMS:  segmentMS,
		FirstSegmentMS:     segmentMS,
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	p := &pipeline{outDir: dirB, l: l, pub: transcode.NewPublisher(dirB, l, func(transcode.Event) {})}
	defer p.close()

	type pair struct {
		name    string
		in      *astiav.Stream
		hls     *astiav.FormatContext
		hlsSt   *astiav.Stream
		seg     *segmenter
		segment int
	}
	var pairs []*pair
	for _, s := range []struct {
		name string
		st   *astiav.Stream
	}{{"video", in.video}, {transcode.AudioName, in.audio}} {
		// The codec parameters as the engine's encoders give them.
		cc := astiav.AllocCodecContext(nil)
		p.onClose(cc.Free)
		if err := s.st.CodecParameters().ToCodecContext(cc); err != nil {
			t.Fatal(err)
		}
		cc.SetTimeBase(s.st.TimeBase())
		oc, st := openHLSMuxer(t, p, filepath.Join(dirA, s.name), cc, segmentMS)
		seg, err := p.openSegmenter(s.name, cc, "avc1.64001e")
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, &pair{name: s.name, in: s.st, hls: oc, hlsSt: st, seg: seg})
	}

	sched := l.Schedule()
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	for {
		if err := in.fc.ReadFrame(pkt); errors.Is(err, astiav.ErrEof) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var pr *pair
		for _, x := range pairs {
			if x.in.Index() == pkt.StreamIndex() {
				pr = x
			}
		}
		if pr == nil {
			pkt.Unref()
			continue
		}
		// Non-negative timestamps, as the engine's offset makes them.
		shift(pkt, 1_000_000, pr.in.TimeBase())
		pkt.SetStreamIndex(0)
		if pkt.Duration() <= 0 {
			pkt.SetDuration(1)
		}
		a := pkt.Clone()
		a.RescaleTs(pr.in.TimeBase(), pr.hlsSt.TimeBase())
		if err := pr.hls.WriteInterleavedFrame(a); err != nil {
			t.Fatal(err)
		}
		a.Free()
		pkt.RescaleTs(pr.in.TimeBase(), pr.seg.st.TimeBase())
		cut := false
		if pr.name == transcode.AudioName || pkt.Flags().Has(astiav.PacketFlagKey) {
			if i := sched.Segment(pr.seg.sinceStartMS(pkt.Pts())); i > pr.segment {
				cut, pr.segment = true, i
			}
		}
		if err := pr.seg.write(pkt, cut); err != nil {
			t.Fatal(err)
		}
		pkt.Unref()
	}
	for _, pr := range pairs {
		if err := pr.hls.WriteTrailer(); err != nil {
			t.Fatal(err)
		}
		if err := pr.seg.finish(); err != nil {
			t.Fatal(err)
		}
		want := readPlaylist(t, filepath.Join(dirA, pr.name))
		got := readPlaylist(t, filepath.Join(dirB, pr.name))
		if len(want.Segments) < 5 {
			t.Errorf("%s: the hls muxer made %d segments, want a clip of several", pr.name, len(want.Segments))
		}
		if !reflect.DeepEqual(got.Segments, want.Segments) {
			t.Errorf("%s: segments %v, the hls muxer's %v", pr.name, got.Segments, want.Segments)
		}
		names := []string{transcode.InitName}
		for _, s := range want.Segments {
			names = append(names, s.URI)
		}
		for _, n := range names {
			a, errA := os.ReadFile(filepath.Join(dirA, pr.name, n))
			b, errB := os.ReadFile(filepath.Join(dirB, pr.name, n))
			if errA != nil || errB != nil || !bytes.Equal(a, b) {
				t.Errorf("%s/%s: %d bytes (%v), the hls muxer's %d (%v): not the same bytes", pr.name, n, len(b), errB, len(a), errA)
			}
		}
	}
}

// openHLSMuxer opens FFmpeg's hls muxer into dir as the engine opened it
// before it had its own segmenter.
func openHLSMuxer(t *testing.T, p *pipeline, dir string, enc *astiav.CodecContext, segmentMS int) (*astiav.FormatContext, *astiav.Stream) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	oc, err := astiav.AllocOutputFormatContext(nil, "hls", filepath.Join(dir, transcode.PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	p.onClose(oc.Free)
	st := oc.NewStream(nil)
	if err := st.CodecParameters().FromCodecContext(enc); err != nil {
		t.Fatal(err)
	}
	st.SetTimeBase(enc.TimeBase())
	opts := astiav.NewDictionary()
	defer opts.Free()
	if err := setAll(opts, map[string]string{
		"hls_time":               strconv.FormatFloat(float64(segmentMS)/1000, 'f', 3, 64),
		"hls_playlist_type":      "vod",
		"hls_list_size":          "0",
		"hls_segment_type":       "fmp4",
		"hls_fmp4_init_filename": transcode.InitName,
		"hls_segment_filename":   filepath.Join(dir, transcode.SegmentPattern),
	}); err != nil {
		t.Fatal(err)
	}
	if err := oc.WriteHeader(opts); err != nil {
		t.Fatal(err)
	}
	return oc, st
}

func readPlaylist(t *testing.T, dir string) *transcode.MediaPlaylist {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, transcode.PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	p, err := transcode.ParseMediaPlaylist(b)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return p
}
