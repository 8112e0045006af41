package productimage

import (
	"bytes"
	"encoding/binary"
	"image"
)

// EXIF orientations (tag 0x0112): how the stored picture must be turned to
// be seen upright.
const (
	orientNormal     = 1
	orientFlipH      = 2
	orientRotate180  = 3
	orientFlipV      = 4
	orientTranspose  = 5
	orientRotate90   = 6 // clockwise
	orientTransverse = 7
	orientRotate270  = 8 // clockwise, i.e. 90° counter-clockwise
)

// jpegOrientation returns the EXIF orientation of the JPEG data, 1 to 8, or
// 1 when it has none or it cannot be read. It reads the segments before the
// image data only, bounds-checking every offset: data is untrusted.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return orientNormal
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return orientNormal
		}
		marker := data[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd8: // no length
			i += 2
			continue
		case marker == 0xda || marker == 0xd9: // start of scan, end of image
			return orientNormal
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return orientNormal
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return orientNormal
}

// exifOrientation reads the orientation tag of the first IFD of tiff, an
// EXIF block's TIFF structure.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return orientNormal
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return orientNormal
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return orientNormal
	}
	off := uint64(bo.Uint32(tiff[4:]))
	if off+2 > uint64(len(tiff)) {
		return orientNormal
	}
	count := uint64(bo.Uint16(tiff[off:]))
	for k := range count {
		e := off + 2 + 12*k
		if e+12 > uint64(len(tiff)) {
			return orientNormal
		}
		if bo.Uint16(tiff[e:]) != 0x0112 {
			continue
		}
		// A SHORT, count 1: the value is in the entry's first two bytes.
		if bo.Uint16(tiff[e+2:]) != 3 || bo.Uint32(tiff[e+4:]) != 1 {
			return orientNormal
		}
		if v := int(bo.Uint16(tiff[e+8:])); v >= orientNormal && v <= orientRotate270 {
			return v
		}
		return orientNormal
	}
	return orientNormal
}

// orient returns the square img turned as EXIF orientation o says; img
// itself when o is 1 (or unknown).
func orient(img *image.RGBA, o int) *image.RGBA {
	if o <= orientNormal || o > orientRotate270 {
		return img
	}
	n := img.Bounds().Dx()
	last := n - 1
	dst := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			// (sx, sy) is the stored pixel seen at (x, y).
			var sx, sy int
			switch o {
			case orientFlipH:
				sx, sy = last-x, y
			case orientRotate180:
				sx, sy = last-x, last-y
			case orientFlipV:
				sx, sy = x, last-y
			case orientTranspose:
				sx, sy = y, x
			case orientRotate90:
				sx, sy = y, last-x
			case orientTransverse:
				sx, sy = last-y, last-x
			case orientRotate270:
				sx, sy = last-y, x
			}
			so, do := img.PixOffset(sx, sy), dst.PixOffset(x, y)
			copy(dst.Pix[do:do+4], img.Pix[so:so+4])
		}
	}
	return dst
}
