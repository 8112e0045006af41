package ffmpeg

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// sweepOutcomes is the expected outcome of every file of the shared media
// corpus (MANIFEST.md): the media error code, or "" and the displayed size
// (rotation and pixel aspect applied) for files that transcode.
var sweepOutcomes = map[string]struct {
	code string
	w, h int
	// audio says whether the output has an audio rendition.
	audio bool
}{
	"3gp_h263_aac_352x288_desks.3gp":                   {"", 384, 288, true}, // CIF with 12:11 pixels
	"android_h264_aac_720p_rot180_vfr.mp4":             {"", 1280, 720, true},
	"apple_spatial_mvhevc_1934x2160_90fps.mov":         {"", 1934, 2160, false},
	"audio_only_alac_stereo.m4a":                       {shopclip.EMEDIANOVIDEO, 0, 0, false},
	"audio_only_opus_5.1.mka":                          {shopclip.EMEDIANOVIDEO, 0, 0, false},
	"av1_1080x720_aac.mp4":                             {"", 1080, 720, true},
	"av1_main10_hdr10_1080p60_aac.mp4":                 {"", 1920, 1080, true},
	"avi_mjpeg_pcm_640x480_canon.avi":                  {"", 640, 480, true},
	"broken_fuzz_mvhd_timescale0.mp4":                  {shopclip.EMEDIANOVIDEO, 0, 0, false},
	"broken_moov_not_found_malformed_free_box.mp4":     {shopclip.EMEDIAUNREADABLE, 0, 0, false},
	"broken_truncated_annexb_in_mp4_claims_35s.mp4":    {"", 1920, 1080, false}, // the 0.46 s that are there
	"broken_truncated_audiobook_aac_claims_6422s.m4b":  {shopclip.EMEDIANOVIDEO, 0, 0, false},
	"broken_ts_no_initial_keyframe.ts":                 {"", 626, 352, true}, // from the first decodable frame
	"broken_vp9_invalid_bitstream.webm":                {shopclip.EMEDIADECODE, 0, 0, false},
	"flir_thermal_h264_aac_1080x1440_vfr.mp4":          {"", 1080, 1440, true},
	"gopro_h264_aac_854x480_gpmf_karma.mp4":            {"", 854, 480, true},
	"h264_mp3_640x360_chaplin.mp4":                     {"", 640, 360, true},
	"h264_noaudio_480x270_koala.mp4":                   {"", 480, 270, false},
	"hevc_main10_hdr10_pq_2160p60_eac3.mp4":            {"", 3840, 2160, true},
	"iphone_h264_aac_568x320_rotm90_gps.mov":           {"", 320, 568, true},
	"iphone_hevc_main10_hlg_1080p60_rotm90.mov":        {"", 1080, 1920, true},
	"iphone_hevc_main10_hlg_1080p_rotm90_editlist.mp4": {"", 1080, 1920, true},
	"mkv_h264_ac3_srt_1080x720.mkv":                    {"", 1080, 720, true},
	"mkv_h264_screenrec_1080p_noduration.mkv":          {"", 1920, 1080, false},
	"mov_h264_1080p50_pcm_s16le.mov":                   {"", 1920, 1080, true},
	"mts_avchd_sony_a7m3_h264_ac3_pgs.mts":             {"", 1920, 1080, true},
	"phone_h264_aac_2160p60_rotm90_portrait.mp4":       {"", 2160, 3840, true},
	"phone_h264_aac_720p_geese.mp4":                    {"", 1280, 720, true},
	"phone_hevc_aac_1080p_rotm90_metadata_track.mp4":   {"", 1080, 1920, true},
	"phone_hevc_aac_8k24_7680x4320.mp4":                {shopclip.EMEDIADIMENSIONS, 0, 0, false},
	"pixel_motionphoto_hevc_2tracks_rotm90_vfr.mp4":    {"", 768, 1024, false},
	"screenrec_h264_3026x1386_vfr_noaudio.mp4":         {"", 3026, 1386, false},
	"ts_h264_aac_640x360_hls_segment.ts":               {"", 640, 360, true},
	"vertical_1080x1920_h264_aac_android_phone.mp4":    {"", 1080, 1920, true},
	"vp9_odd_161x121_noaudio_bear.webm":                {"", 161, 121, false},
	"vp9_profile2_10bit_426x240_noaudio.webm":          {"", 426, 240, false},
	"webm_vp8_vorbis_720p_bbb_30s.webm":                {"", 1280, 720, true},
	"webm_vp9_opus_720p_recording_noduration.webm":     {"", 1280, 720, true},
}

// TestMediaSweep transcodes every file of the corpus with a one-rung 360p
// ladder (superfast, to keep the sweep short on 2 cores) and checks each
// outcome: the right media error, or outputs that decode cleanly, upright,
// SDR yuv420p, with audio when the source has it. Files added to the corpus
// without an expected outcome fail the test.
func TestMediaSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("the media sweep is not short")
	}
	mediaDir := testenv.MediaDir(t) // skips, or fails under CI
	entries, err := os.ReadDir(mediaDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := transcode.Config{
		Rungs:  []transcode.RungConfig{{ShortSide: 360, MaxRate: 800_000, MaxFrameRate: 30}},
		Preset: "superfast",
	}
	seen := 0
	for _, e := range entries {
		name := e.Name()
		if name == "MANIFEST.md" {
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			want, ok := sweepOutcomes[name]
			if !ok {
				t.Fatalf("no expected outcome for %s: add it to sweepOutcomes", name)
			}
			out := filepath.Join(t.TempDir(), "out")
			rep, err := Transcode(context.Background(), filepath.Join(mediaDir, name), out, cfg, nil)
			if got := shopclip.ErrorCode(err); got != want.code {
				t.Fatalf("code %q (%v), want %q", got, err, want.code)
			}
			if want.code != "" {
				if rep.Error == nil || rep.Error.Message == "" || strings.Contains(rep.Error.Message, "ffmpeg:") {
					t.Errorf("error %+v: want a message for people", rep.Error)
				}
				return
			}
			if rep.Width != want.w || rep.Height != want.h {
				t.Errorf("displayed %dx%d, want %dx%d", rep.Width, rep.Height, want.w, want.h)
			}
			if (rep.Ladder.Audio != nil) != want.audio {
				t.Errorf("audio rendition: %v, want %v", rep.Ladder.Audio != nil, want.audio)
			}
			checkOutputs(t, rep, out)
		})
	}
	if seen != len(sweepOutcomes) {
		t.Errorf("the corpus has %d files, the table %d: a file went missing", seen, len(sweepOutcomes))
	}
}
