package storefront

import "bytes"

// sniffContainer names the container family of a file from its first bytes,
// or returns "" when they match none of the containers the transcoder
// accepts. It only keeps obvious non-video (HTML, playlists, scripts, images)
// from being stored; the transcoder's own allowlists decide for real.
func sniffContainer(b []byte) string {
	switch {
	case len(b) >= 12 && isBMFFBox(b[4:8]):
		return "isobmff" // MP4, MOV, M4V, 3GP
	case len(b) >= 4 && bytes.Equal(b[:4], []byte{0x1a, 0x45, 0xdf, 0xa3}):
		return "matroska" // MKV, WebM
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("AVI ")):
		return "avi"
	case isTS(b, 0, 188) || isTS(b, 4, 192):
		return "mpegts" // TS, or M2TS with 4-byte timestamps (AVCHD .mts)
	case isPackHeader(b):
		return "mpegps" // MPEG-2 program stream (.mpg, .vob) or MPEG-1 system stream
	}
	return ""
}

// isPackHeader reports whether b starts with an MPEG program stream pack
// header: the start code 00 00 01 BA, then the MPEG-2 ('01') or MPEG-1
// ('0010') marker bits of the system clock reference.
func isPackHeader(b []byte) bool {
	if len(b) < 5 || !bytes.Equal(b[:4], []byte{0, 0, 1, 0xba}) {
		return false
	}
	return b[4]&0xc4 == 0x44 || b[4]&0xf1 == 0x21
}

// isBMFFBox reports whether typ is a top-level ISO-BMFF / QuickTime box type
// a video file can start with.
func isBMFFBox(typ []byte) bool {
	switch string(typ) {
	case "ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", "uuid":
		return true
	}
	return false
}

// isTS reports whether b has MPEG-TS sync bytes at off and off+stride, and
// off+2*stride when b is long enough to hold it.
func isTS(b []byte, off, stride int) bool {
	n := 0
	for i := off; i < len(b) && n < 3; i += stride {
		if b[i] != 0x47 {
			return false
		}
		n++
	}
	return n >= 2
}
