package transcode

import (
	"bytes"
	"errors"
	"fmt"
)

// AACLCCodec is the RFC 6381 CODECS value of AAC-LC audio.
const AACLCCodec = "mp4a.40.2"

// AVCCodec returns the RFC 6381 CODECS value ("avc1.PPCCLL": profile,
// constraint flags and level in hex, e.g. "avc1.64001f" for High@3.1) of an
// H.264 stream from its extradata, either an avcC record (ISO/IEC 14496-15)
// or Annex B SPS/PPS NAL units as libx264 writes them.
func AVCCodec(extradata []byte) (string, error) {
	if len(extradata) >= 4 && extradata[0] == 1 {
		// avcC: configurationVersion, AVCProfileIndication,
		// profile_compatibility, AVCLevelIndication.
		return fmt.Sprintf("avc1.%02x%02x%02x", extradata[1], extradata[2], extradata[3]), nil
	}
	for rest := extradata; ; {
		i := bytes.Index(rest, []byte{0, 0, 1})
		if i < 0 {
			return "", errors.New("transcode: no H.264 SPS in extradata")
		}
		rest = rest[i+3:]
		if len(rest) >= 4 && rest[0]&0x1f == 7 { // nal_unit_type 7: SPS
			return fmt.Sprintf("avc1.%02x%02x%02x", rest[1], rest[2], rest[3]), nil
		}
	}
}
