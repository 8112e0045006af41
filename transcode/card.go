package transcode

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"os"

	"github.com/shopclip/shopclip"
)

// Bounds of an overlay image (a product card).
const (
	// MaxCardBytes bounds the size of an overlay image's file.
	MaxCardBytes = 16 << 20
	// MaxCardSide bounds each side of an overlay image, in pixels: decoded
	// (RGBA) a card takes at most 16 MiB, and a spec's MaxOverlays cards at
	// most 1 GiB.
	MaxCardSide = 2048
)

// CheckCard checks the overlay image called name in root (the job dir)
// without decoding its pixels: a plain file name (see Overlay.Image)
// naming a regular file inside root (os.Root refuses a symbolic link out of
// it) of at most MaxCardBytes, holding a PNG of at most MaxCardSide pixels
// each way. It returns the picture's size. Its errors carry EINVALID.
func CheckCard(root *os.Root, name string) (Size, error) {
	f, err := openCard(root, name)
	if err != nil {
		return Size{}, err
	}
	defer f.Close()
	return cardSize(f, name)
}

// LoadCard is CheckCard, then decodes the PNG.
func LoadCard(root *os.Root, name string) (image.Image, error) {
	f, err := openCard(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := cardSize(f, name); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("transcode: overlay image %q: %w", name, err)
	}
	img, err := png.Decode(bufio.NewReader(io.LimitReader(f, MaxCardBytes)))
	if err != nil {
		return nil, shopclip.Errorf(shopclip.EINVALID, "The overlay image %q is not a readable PNG (%s).", name, err)
	}
	return img, nil
}

func openCard(root *os.Root, name string) (*os.File, error) {
	if msg := imageNameProblem(name); msg != "" {
		return nil, shopclip.Errorf(shopclip.EINVALID, "Overlay image: %s", msg)
	}
	f, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, shopclip.Errorf(shopclip.EINVALID, "The overlay image %q is not in the job dir.", name)
	} else if err != nil {
		return nil, shopclip.Errorf(shopclip.EINVALID, "The overlay image %q cannot be opened (%s).", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("transcode: overlay image %q: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, shopclip.Errorf(shopclip.EINVALID, "The overlay image %q is not a regular file.", name)
	}
	if fi.Size() > MaxCardBytes {
		f.Close()
		return nil, shopclip.Errorf(shopclip.EINVALID, "The overlay image %q is larger than %d bytes.", name, MaxCardBytes)
	}
	return f, nil
}

// cardSize reads the PNG header of f.
func cardSize(f *os.File, name string) (Size, error) {
	cfg, err := png.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return Size{}, shopclip.Errorf(shopclip.EINVALID, "The overlay image %q is not a PNG (%s).", name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxCardSide || cfg.Height > MaxCardSide {
		return Size{}, shopclip.Errorf(shopclip.EINVALID, "The overlay image %q is %d×%d pixels; at most %d×%d are accepted.",
			name, cfg.Width, cfg.Height, MaxCardSide, MaxCardSide)
	}
	return Size{Width: cfg.Width, Height: cfg.Height}, nil
}
