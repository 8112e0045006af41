package ffmpeg

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"testing"
	"unicode/utf16"
)

// aviFile describes a Motion JPEG AVI made by buildAVI: the ffmpeg command
// line cannot write the GAB2 subtitle streams the hostile tests need (its
// AVI muxer only knows DivX XSUB), so the tests lay the RIFF out themselves.
type aviFile struct {
	w, h, fps, frames int
	// sub, when set, is the payload of one subtitle chunk ('01tx') of a
	// text subtitle stream ('txts'), the first chunk of the movie data.
	sub []byte
}

// riffChunk returns a RIFF chunk: id, little-endian size, data, padded to
// an even length.
func riffChunk(id string, data []byte) []byte {
	b := make([]byte, 8, 8+len(data)+1)
	copy(b, id)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func riffList(typ string, chunks ...[]byte) []byte {
	return riffChunk("LIST", append([]byte(typ), bytes.Join(chunks, nil)...))
}

func le32(vs ...uint32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b
}

// fourCC returns s as the little-endian number AVI headers store.
func fourCC(s string) uint32 { return binary.LittleEndian.Uint32([]byte(s)) }

// testJPEG returns a baseline JPEG of a w×h gradient that changes with i.
func testJPEG(t testing.TB, w, h, i int) []byte {
	t.Helper()
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Y[y*img.YStride+x] = uint8(16 + (x*200/w+i*8)%200)
		}
	}
	for j := range img.Cb {
		img.Cb[j], img.Cr[j] = 90, 160
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// buildAVI lays out an AVI 1.0 file (RIFF 'AVI ', hdrl, movi, idx1) of
// Motion JPEG frames, with a subtitle stream when f.sub is set.
func buildAVI(t testing.TB, f aviFile) []byte {
	t.Helper()
	streams := uint32(1)
	if f.sub != nil {
		streams = 2
	}
	avih := le32(uint32(1_000_000/f.fps), 0, 0, 0x10 /* AVIF_HASINDEX */, uint32(f.frames), 0, streams, 0,
		uint32(f.w), uint32(f.h), 0, 0, 0, 0)
	strhV := append(le32(fourCC("vids"), fourCC("MJPG"), 0, 0, 0, 1, uint32(f.fps), 0, uint32(f.frames), 0, ^uint32(0), 0),
		0, 0, 0, 0, byte(f.w), byte(f.w>>8), byte(f.h), byte(f.h>>8))
	bih := le32(40, uint32(f.w), uint32(f.h), 1|24<<16, fourCC("MJPG"), uint32(f.w*f.h*3), 0, 0, 0, 0)
	hdrl := [][]byte{riffChunk("avih", avih), riffList("strl", riffChunk("strh", strhV), riffChunk("strf", bih))}
	if f.sub != nil {
		strhS := append(le32(fourCC("txts"), 0, 0, 0, 0, 1, uint32(f.fps), 0, 1, 0, ^uint32(0), 0), make([]byte, 8)...)
		hdrl = append(hdrl, riffList("strl", riffChunk("strh", strhS), riffChunk("strf", make([]byte, 4))))
	}

	var movi [][]byte
	var idx []byte
	off := uint32(4) // idx1 offsets count from the 'movi' list type
	add := func(id string, data []byte, flags uint32) {
		c := riffChunk(id, data)
		idx = append(idx, le32(fourCC(id), flags, off, uint32(len(data)))...)
		off += uint32(len(c))
		movi = append(movi, c)
	}
	if f.sub != nil {
		add("01tx", f.sub, 0x10)
	}
	for i := range f.frames {
		add("00dc", testJPEG(t, f.w, f.h, i), 0x10 /* AVIIF_KEYFRAME */)
	}
	body := append([]byte("AVI "), riffList("hdrl", hdrl...)...)
	body = append(body, riffList("movi", movi...)...)
	body = append(body, riffChunk("idx1", idx)...)
	return riffChunk("RIFF", body)
}

// gab2 returns a GAB2 subtitle chunk payload (what VobSub-era tools wrote
// into AVIs): "GAB2\0", version 2, a UTF-16 title, then a whole subtitle
// file, which libavformat's AVI demuxer probes and opens with a nested
// demuxer.
func gab2(title string, file []byte) []byte {
	var name []byte
	for _, u := range utf16.Encode([]rune(title + "\x00")) {
		name = binary.LittleEndian.AppendUint16(name, u)
	}
	b := append([]byte("GAB2\x00"), 2, 0)
	b = append(b, le32(uint32(len(name)))...)
	b = append(b, name...)
	b = append(b, 4, 0) // flags
	b = append(b, le32(uint32(len(file)))...)
	return append(b, file...)
}
