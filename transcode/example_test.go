package transcode_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/shopclip/shopclip/transcode"
)

// A portrait phone clip stored landscape with a display matrix (ffprobe
// rotation -90), 29.97 fps with stereo sound: the ladder is upright and
// keeps every rung at or below the source.
func ExamplePlan() {
	probe := transcode.Probe{
		Container:  "mov,mp4,m4a,3gp,3g2,mj2",
		DurationMS: 12_000,
		Streams: []transcode.StreamInfo{
			{Index: 0, Kind: transcode.KindVideo, Codec: "h264"},
			{Index: 1, Kind: transcode.KindAudio, Codec: "aac"},
		},
		Video: &transcode.VideoInfo{
			Codec: "h264", CodedWidth: 1920, CodedHeight: 1080,
			Rotation:      90,
			DisplayMatrix: []int32{0, 1 << 16, 0, -1 << 16, 0, 0, 0, 0, 1 << 30},
			Width:         1080, Height: 1920,
			AvgFPS: transcode.Rational{Num: 30000, Den: 1001}, RFPS: transcode.Rational{Num: 30000, Den: 1001},
			PixFmt: "yuv420p", ColorRange: "tv",
		},
		Audio: &transcode.AudioInfo{Index: 1, Codec: "aac", Channels: 2, SampleRate: 44100},
	}
	ladder, err := transcode.Plan(probe, transcode.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("orientation:", ladder.Orientation.Filters)
	for _, r := range ladder.Rungs {
		fmt.Printf("%s %dx%d %.2f fps, max %d kb/s\n", r.Name, r.Width, r.Height, r.FrameRate.Float(), r.MaxRate/1000)
	}
	fmt.Printf("audio: %s %d Hz, %d channels, %d kb/s\n", ladder.Audio.Codec, ladder.Audio.SampleRate, ladder.Audio.Channels, ladder.Audio.Bitrate/1000)
	// Output:
	// orientation: [transpose=clock]
	// 1080p 1080x1920 29.97 fps, max 4500 kb/s
	// 720p 720x1280 29.97 fps, max 2500 kb/s
	// 480p 480x854 29.97 fps, max 1000 kb/s
	// audio: aac 48000 Hz, 2 channels, 128 kb/s
}

// Inputs outside the limits get a media error with a code and a message
// for the creator.
func ExampleCheckProbe() {
	probe := transcode.Probe{
		Streams: []transcode.StreamInfo{{Index: 0, Kind: transcode.KindAudio, Codec: "alac"}},
		Audio:   &transcode.AudioInfo{Codec: "alac", Channels: 2, SampleRate: 22050},
	}
	err := transcode.CheckProbe(&probe, transcode.InputLimits{})
	fmt.Println(err)
	// Output:
	// shopclip error: code=media_no_video message=The file has only sound and no picture. Upload a video.
}

// The default schedule: a short first segment, so the clip can play sooner,
// then 2 s segments, with keyframes exactly at the cuts in every rendition.
func ExampleSchedule() {
	s := transcode.Schedule{FirstMS: 1000, KeyframeMS: 2000, SegmentMS: 2000}
	fmt.Println("keyframes (ms):", s.Keyframes(8000))
	for _, ms := range []int64{0, 999, 1000, 2999, 3000, 7500} {
		fmt.Printf("%d ms is in segment %d\n", ms, s.Segment(ms))
	}
	// Output:
	// keyframes (ms): [0 1000 3000 5000 7000]
	// 0 ms is in segment 0
	// 999 ms is in segment 0
	// 1000 ms is in segment 1
	// 2999 ms is in segment 1
	// 3000 ms is in segment 2
	// 7500 ms is in segment 4
}

// The engine publishes each segment as it closes it; the stream is playable
// once every rendition has its first one.
func ExamplePublisher() {
	dir, err := os.MkdirTemp("", "publisher")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ladder, err := transcode.Plan(transcode.Probe{
		DurationMS: 4000,
		Streams:    []transcode.StreamInfo{{Index: 0, Kind: transcode.KindVideo, Codec: "h264"}},
		Video: &transcode.VideoInfo{Codec: "h264", CodedWidth: 480, CodedHeight: 270, Width: 480, Height: 270,
			AvgFPS: transcode.Rational{Num: 30, Den: 1}, RFPS: transcode.Rational{Num: 30, Den: 1}, PixFmt: "yuv420p"},
	}, transcode.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	pub := transcode.NewPublisher(dir, ladder, func(ev transcode.Event) { fmt.Println(ev.Kind, ev.Path) })
	r := pub.Rendition("270p", "avc1.64001e")
	// The engine writes the init segment when it closes the first media
	// segment, then each media segment…
	os.MkdirAll(filepath.Join(dir, "270p"), 0o755)
	os.WriteFile(filepath.Join(dir, "270p", transcode.InitName), []byte("ftyp…moov"), 0o644)
	for i, d := range []time.Duration{time.Second, 2 * time.Second} {
		name := fmt.Sprintf(transcode.SegmentPattern, i)
		os.WriteFile(filepath.Join(dir, "270p", name), []byte("styp…moof…mdat"), 0o644)
		// …and publishes it once its file is complete.
		if err := r.Segment(transcode.Segment{URI: name, Duration: d}); err != nil {
			fmt.Println(err)
			return
		}
	}
	playlist, _ := os.ReadFile(filepath.Join(dir, "270p", transcode.PlaylistName))
	fmt.Print(string(playlist))
	// Output:
	// file 270p/init.mp4
	// file 270p/seg_00000.m4s
	// file 270p/index.m3u8
	// playable master.m3u8
	// file 270p/seg_00001.m4s
	// file 270p/index.m3u8
	// #EXTM3U
	// #EXT-X-VERSION:7
	// #EXT-X-TARGETDURATION:2
	// #EXT-X-MEDIA-SEQUENCE:0
	// #EXT-X-PLAYLIST-TYPE:EVENT
	// #EXT-X-INDEPENDENT-SEGMENTS
	// #EXT-X-MAP:URI="init.mp4"
	// #EXTINF:1.000000,
	// seg_00000.m4s
	// #EXTINF:2.000000,
	// seg_00001.m4s
}
