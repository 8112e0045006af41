package storefront

import (
	"testing"
)

// FuzzSniffContainer feeds arbitrary first bytes of uploads to the sniffer:
// it must never panic, and what it accepts must carry the signature it names.
func FuzzSniffContainer(f *testing.F) {
	for _, seed := range []string{
		"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "\x1a\x45\xdf\xa3\x01", "RIFF\x00\x00\x00\x00AVI LIST",
		"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01", "\x00\x00\x01\xba\x21\x00\x01\x00\x01\xc3", "\x00\x00\x01\xb3\x04\x00",
		"G", "#EXTM3U\n", "<html>", "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		switch sniffContainer(b) {
		case "isobmff":
			if !isBMFFBox(b[4:8]) {
				t.Errorf("isobmff without a box type: %q", b)
			}
		case "matroska":
			if b[0] != 0x1a {
				t.Errorf("matroska without EBML magic: %q", b)
			}
		case "mpegts":
			if b[0] != 0x47 && b[4] != 0x47 {
				t.Errorf("mpegts without sync byte: %q", b)
			}
		case "avi":
			if string(b[:4]) != "RIFF" || string(b[8:12]) != "AVI " {
				t.Errorf("avi without RIFF AVI header: %q", b)
			}
		case "mpegps":
			if string(b[:4]) != "\x00\x00\x01\xba" {
				t.Errorf("mpegps without pack start code: %q", b)
			}
		}
	})
}
