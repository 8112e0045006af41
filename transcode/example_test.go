package transcode_test

import (
	"fmt"

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
