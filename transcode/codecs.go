package transcode

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
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

// Video codecs a ladder can be encoded in, by their names in Config.Codecs.
const (
	CodecH264 = "h264" // libx264; every ladder has it, first
	CodecAV1  = "av1"  // libsvtav1
	CodecHEVC = "hevc" // libx265
)

// AV1Codec returns the RFC 6381 CODECS value ("av01.P.LLT.DD": profile,
// level index and tier, bit depth, e.g. "av01.0.08M.08", as the AV1 codec
// ISOBMFF binding defines it) of an AV1 stream from its extradata: either an
// av1C record or the sequence header OBU (with its size field) as libsvtav1
// writes it.
func AV1Codec(extradata []byte) (string, error) {
	if len(extradata) >= 4 && extradata[0] == 0x81 {
		// av1C: marker and version 1, then seq_profile(3) seq_level_idx_0(5),
		// then seq_tier_0, high_bitdepth, twelve_bit, monochrome, …
		profile, level := extradata[1]>>5, extradata[1]&0x1f
		tier, high, twelve := extradata[2]>>7&1, extradata[2]>>6&1, extradata[2]>>5&1
		return av1String(profile, level, tier, av1BitDepth(profile, high == 1, twelve == 1)), nil
	}
	for rest := extradata; len(rest) > 0; {
		h := rest[0]
		typ, ext, hasSize := h>>3&0xf, h>>2&1 == 1, h>>1&1 == 1
		rest = rest[1:]
		if ext {
			if len(rest) == 0 {
				break
			}
			rest = rest[1:]
		}
		size := uint64(len(rest))
		if hasSize {
			n, used, ok := leb128(rest)
			if !ok {
				break
			}
			size, rest = n, rest[used:]
		}
		if size > uint64(len(rest)) {
			break
		}
		if typ == 1 { // OBU_SEQUENCE_HEADER
			return av1SequenceHeader(rest[:size])
		}
		rest = rest[size:]
	}
	return "", errors.New("transcode: no AV1 sequence header in extradata")
}

func av1String(profile, level, tier byte, depth int) string {
	t := "M"
	if tier == 1 {
		t = "H"
	}
	return fmt.Sprintf("av01.%d.%02d%s.%02d", profile, level, t, depth)
}

func av1BitDepth(profile byte, high, twelve bool) int {
	switch {
	case profile == 2 && high && twelve:
		return 12
	case high:
		return 10
	}
	return 8
}

// leb128 decodes an unsigned LEB128 number (at most 8 bytes), returning it
// and the bytes it took.
func leb128(b []byte) (uint64, int, bool) {
	var v uint64
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, true
		}
	}
	return 0, 0, false
}

// av1SequenceHeader reads the profile, level and tier of the first
// operating point, and the bit depth, from a sequence header OBU's payload
// (AV1 specification, section 5.5).
func av1SequenceHeader(b []byte) (string, error) {
	r := bitReader{b: b}
	profile := byte(r.bits(3))
	r.bits(1) // still_picture
	reduced := r.bits(1) == 1
	var level, tier byte
	decoderModel := false
	var bufferDelayLen int
	if reduced {
		level = byte(r.bits(5))
	} else {
		if r.bits(1) == 1 { // timing_info_present_flag
			r.bits(32)          // num_units_in_display_tick
			r.bits(32)          // time_scale
			if r.bits(1) == 1 { // equal_picture_interval
				r.uvlc() // num_ticks_per_picture_minus_1
			}
			decoderModel = r.bits(1) == 1
			if decoderModel {
				bufferDelayLen = int(r.bits(5)) + 1
				r.bits(32) // num_units_in_decoding_tick
				r.bits(5)  // buffer_removal_time_length_minus_1
				r.bits(5)  // frame_presentation_time_length_minus_1
			}
		}
		displayDelay := r.bits(1) == 1
		points := int(r.bits(5)) + 1
		for i := range points {
			r.bits(12) // operating_point_idc
			l := byte(r.bits(5))
			var t byte
			if l > 7 {
				t = byte(r.bits(1))
			}
			if i == 0 {
				level, tier = l, t
			}
			if decoderModel && r.bits(1) == 1 {
				r.bits(bufferDelayLen) // decoder_buffer_delay
				r.bits(bufferDelayLen) // encoder_buffer_delay
				r.bits(1)              // low_delay_mode_flag
			}
			if displayDelay && r.bits(1) == 1 {
				r.bits(4)
			}
		}
	}
	wbits, hbits := int(r.bits(4))+1, int(r.bits(4))+1
	r.bits(wbits)                   // max_frame_width_minus_1
	r.bits(hbits)                   // max_frame_height_minus_1
	if !reduced && r.bits(1) == 1 { // frame_id_numbers_present_flag
		r.bits(4 + 3)
	}
	r.bits(3) // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
	if !reduced {
		r.bits(4) // enable_interintra_compound, enable_masked_compound, enable_warped_motion, enable_dual_filter
		orderHint := r.bits(1) == 1
		if orderHint {
			r.bits(2) // enable_jnt_comp, enable_ref_frame_mvs
		}
		forceScreen := uint64(2)
		if r.bits(1) == 0 { // seq_choose_screen_content_tools
			forceScreen = r.bits(1)
		}
		if forceScreen > 0 && r.bits(1) == 0 { // seq_choose_integer_mv
			r.bits(1) // seq_force_integer_mv
		}
		if orderHint {
			r.bits(3) // order_hint_bits_minus_1
		}
	}
	r.bits(3) // enable_superres, enable_cdef, enable_restoration
	high := r.bits(1) == 1
	twelve := profile == 2 && high && r.bits(1) == 1
	if r.err {
		return "", errors.New("transcode: AV1 sequence header is truncated")
	}
	if profile > 2 {
		return "", fmt.Errorf("transcode: AV1 sequence header: profile %d", profile)
	}
	return av1String(profile, level, tier, av1BitDepth(profile, high, twelve)), nil
}

// HEVCCodec returns the RFC 6381 CODECS value of an HEVC stream stored
// with the hvc1 sample entry ("hvc1.P.C.TL.B…": profile space and profile,
// compatibility flags in reverse bit order, tier and level, the non-zero
// constraint bytes, as ISO/IEC 14496-15 annex E defines it, e.g.
// "hvc1.1.6.L120.90") from its extradata: an hvcC record or the Annex B
// VPS/SPS/PPS NAL units libx265 writes.
func HEVCCodec(extradata []byte) (string, error) {
	var ptl []byte // general profile_tier_level: 12 bytes
	if len(extradata) >= 13 && extradata[0] == 1 {
		ptl = extradata[1:13]
	} else {
		for rest := extradata; ptl == nil; {
			i := bytes.Index(rest, []byte{0, 0, 1})
			if i < 0 {
				return "", errors.New("transcode: no HEVC SPS in extradata")
			}
			rest = rest[i+3:]
			if len(rest) >= 2 && rest[0]>>1&0x3f == 33 { // nal_unit_type 33: SPS
				end := bytes.Index(rest, []byte{0, 0, 1})
				if end < 0 {
					end = len(rest)
				}
				rbsp := unescapeRBSP(rest[2:end])
				// sps_video_parameter_set_id(4) sps_max_sub_layers_minus1(3)
				// sps_temporal_id_nesting_flag(1), then profile_tier_level.
				if len(rbsp) < 13 {
					return "", errors.New("transcode: HEVC SPS is truncated")
				}
				ptl = rbsp[1:13]
			}
		}
	}
	space := ptl[0] >> 6
	tier := "L"
	if ptl[0]>>5&1 == 1 {
		tier = "H"
	}
	profile := ptl[0] & 0x1f
	compat := uint32(ptl[1])<<24 | uint32(ptl[2])<<16 | uint32(ptl[3])<<8 | uint32(ptl[4])
	var rev uint32
	for i := range 32 {
		rev |= (compat >> i & 1) << (31 - i)
	}
	var b strings.Builder
	b.WriteString("hvc1.")
	if space > 0 {
		b.WriteByte("ABC"[space-1])
	}
	fmt.Fprintf(&b, "%d.%X.%s%d", profile, rev, tier, ptl[11])
	cons := ptl[5:11]
	n := len(cons)
	for n > 0 && cons[n-1] == 0 {
		n--
	}
	for _, c := range cons[:n] {
		fmt.Fprintf(&b, ".%X", c)
	}
	return b.String(), nil
}

// unescapeRBSP removes the emulation prevention bytes (00 00 03 → 00 00) of
// a NAL unit's payload.
func unescapeRBSP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// bitReader reads big-endian bit fields; reading past the end sets err and
// returns zeros.
type bitReader struct {
	b   []byte
	pos int // in bits
	err bool
}

func (r *bitReader) bits(n int) uint64 {
	var v uint64
	for range n {
		if r.pos >= 8*len(r.b) {
			r.err = true
			return 0
		}
		v = v<<1 | uint64(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

// uvlc reads the AV1 specification's uvlc() code.
func (r *bitReader) uvlc() uint64 {
	zeros := 0
	for r.bits(1) == 0 {
		if r.err || zeros >= 32 {
			r.err = true
			return 0
		}
		zeros++
	}
	return r.bits(zeros)
}
