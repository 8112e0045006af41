package transcode

import "testing"

func TestAVCCodec(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		// The avcC of shared/media/h264_noaudio_480x270_koala.mp4 (High@2.1).
		{"avcC", []byte{0x01, 0x64, 0x00, 0x15, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x15}, "avc1.640015"},
		{"annex b, 4-byte start code", []byte{0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0xac, 0, 0, 0, 1, 0x68, 0xeb}, "avc1.64001f"},
		{"annex b, AUD first, 3-byte start code", []byte{0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x27, 0x4d, 0x40, 0x1e, 0x99}, "avc1.4d401e"},
	}
	for _, tt := range tests {
		got, err := AVCCodec(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: AVCCodec = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range [][]byte{nil, {0, 0, 1, 0x68, 1, 2, 3}, {0, 0, 1, 0x67, 0x64}, {1, 2}} {
		if got, err := AVCCodec(bad); err == nil {
			t.Errorf("AVCCodec(%x) = %q, want an error", bad, got)
		}
	}
}

func TestAV1Codec(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		// `ffmpeg -f lavfi -i testsrc2=s=64x64 -c:v libsvtav1 -f obu`: a
		// temporal delimiter, then the sequence header OBU (level 2.0).
		{"OBUs", []byte{0x12, 0x00, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x02, 0xaf, 0xff, 0x9f, 0x7f, 0x20, 0x08, 0x32, 0x95}, "av01.0.00M.08"},
		// The av1C the mp4 muxer writes for libsvtav1 at 1280x720 (level 3.1).
		{"av1C", []byte{0x81, 0x05, 0x0c, 0x00}, "av01.0.05M.08"},
		// av1C of a 10-bit High-tier level 5.1 stream.
		{"av1C 10-bit high tier", []byte{0x81, 0x0d, 0xcc, 0x00}, "av01.0.13H.10"},
	}
	for _, tt := range tests {
		got, err := AV1Codec(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: AV1Codec = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range [][]byte{nil, {0x12, 0x00}, {0x0a, 0x0a, 0x00, 0x00}, {0x0a, 0x7f, 0x00}, {0x0a, 0x01, 0xe0}} {
		if got, err := AV1Codec(bad); err == nil {
			t.Errorf("AV1Codec(%x) = %q, want an error", bad, got)
		}
	}
}

func TestHEVCCodec(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		// The start of `ffmpeg -f lavfi -i testsrc2=s=64x64 -c:v libx265 -f
		// hevc`: VPS, SPS (Main, level 1), with emulation prevention bytes.
		{"annex b", []byte{
			0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0, 0, 0x03, 0, 0x90, 0, 0, 0x03, 0, 0, 0x03, 0, 0x1e, 0x95, 0x98, 0x09,
			0, 0, 0, 1, 0x42, 0x01, 0x01, 0x01, 0x60, 0, 0, 0x03, 0, 0x90, 0, 0, 0x03, 0, 0, 0x03, 0, 0x1e, 0xa0, 0x20, 0x81, 0x05,
		}, "hvc1.1.6.L30.90"},
		// The hvcC the mp4 muxer writes for libx265 at 1280x720 (level 3.1).
		{"hvcC", []byte{0x01, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x5d, 0xf0, 0x00}, "hvc1.1.6.L93.90"},
		// A Main 10 High-tier level 5.1 hvcC.
		{"hvcC main10 high", []byte{0x01, 0x22, 0x20, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x99, 0xf0}, "hvc1.2.4.H153.90"},
	}
	for _, tt := range tests {
		got, err := HEVCCodec(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: HEVCCodec = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range [][]byte{nil, {0, 0, 1, 0x40, 0x01, 1, 2}, {0, 0, 1, 0x42, 0x01, 0x01}} {
		if got, err := HEVCCodec(bad); err == nil {
			t.Errorf("HEVCCodec(%x) = %q, want an error", bad, got)
		}
	}
}
