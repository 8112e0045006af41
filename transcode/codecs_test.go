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
