package ffmpeg

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// jpegQuality is the MJPEG quantizer scale (2 best … 31 worst).
const jpegQuality = 3

// filterFrames runs frames (all alike: the first gives the size and pixel
// format) through a one-input, one-output filter graph described by desc
// and returns its first output frame, which the caller frees.
func filterFrames(desc string, frames []*astiav.Frame) (*astiav.Frame, error) {
	if len(frames) == 0 {
		return nil, errors.New("ffmpeg: no frames to filter")
	}
	g := astiav.AllocFilterGraph()
	if g == nil {
		return nil, allocError("filter graph")
	}
	defer g.Free()
	src, err := newBufferSource(g, "src", frames[0], astiav.NewRational(1, 25))
	if err != nil {
		return nil, err
	}
	sink, err := g.NewFilterContext(astiav.FindFilterByName("buffersink"), "sink", nil)
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: buffer sink: %w", err)
	}
	if err := configureGraph(g, "[in]"+desc+"[out]", []graphPad{{"in", src}}, []graphPad{{"out", sink}}); err != nil {
		return nil, err
	}
	in := astiav.AllocFrame()
	defer in.Free()
	for i, f := range frames {
		if err := in.Ref(f); err != nil {
			return nil, fmt.Errorf("ffmpeg: ref frame: %w", err)
		}
		in.SetPts(int64(i))
		in.SetPictureType(astiav.PictureTypeNone)
		err := src.BuffersrcAddFrame(in, astiav.NewBuffersrcFlags())
		in.Unref()
		if err != nil {
			return nil, fmt.Errorf("ffmpeg: filter %q: %w", desc, err)
		}
	}
	if err := src.BuffersrcAddFrame(nil, astiav.NewBuffersrcFlags()); err != nil {
		return nil, fmt.Errorf("ffmpeg: filter %q: %w", desc, err)
	}
	out := astiav.AllocFrame()
	if err := sink.BuffersinkGetFrame(out, astiav.NewBuffersinkFlags()); err != nil {
		out.Free()
		return nil, fmt.Errorf("ffmpeg: filter %q: %w", desc, err)
	}
	return out, nil
}

// writeJPEG encodes frame (limited-range yuv420p) as a full-range baseline
// JPEG at path.
func writeJPEG(frame *astiav.Frame, path string) error {
	full, err := filterFrames("scale=out_range=pc,format=yuv420p", []*astiav.Frame{frame})
	if err != nil {
		return err
	}
	defer full.Free()
	codec := astiav.FindEncoderByName("mjpeg")
	if codec == nil {
		return errors.New("ffmpeg: mjpeg encoder not found")
	}
	enc := astiav.AllocCodecContext(codec)
	if enc == nil {
		return allocError("mjpeg encoder")
	}
	defer enc.Free()
	enc.SetWidth(full.Width())
	enc.SetHeight(full.Height())
	enc.SetPixelFormat(full.PixelFormat())
	enc.SetTimeBase(astiav.NewRational(1, 25))
	enc.SetSampleAspectRatio(astiav.NewRational(1, 1))
	d := astiav.NewDictionary()
	defer d.Free()
	if err := setAll(d, map[string]string{
		"color_range":    "pc",
		"flags":          "+qscale",
		"global_quality": strconv.Itoa(jpegQuality * 118), // FF_QP2LAMBDA
	}); err != nil {
		return err
	}
	if err := enc.Open(codec, d); err != nil {
		return fmt.Errorf("ffmpeg: open mjpeg encoder: %w", err)
	}
	if err := unusedOptions("open mjpeg encoder", d); err != nil {
		return err
	}
	full.SetPts(0)
	full.SetPictureType(astiav.PictureTypeNone)
	if err := enc.SendFrame(full); err != nil {
		return fmt.Errorf("ffmpeg: encode jpeg: %w", err)
	}
	if err := enc.SendFrame(nil); err != nil {
		return fmt.Errorf("ffmpeg: encode jpeg: %w", err)
	}
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	if err := enc.ReceivePacket(pkt); err != nil {
		return fmt.Errorf("ffmpeg: encode jpeg: %w", err)
	}
	defer pkt.Unref()
	if err := os.WriteFile(path, pkt.Data(), 0o644); err != nil {
		return fmt.Errorf("ffmpeg: write jpeg: %w", err)
	}
	return nil
}

// writeStoryboard lays thumbs out in a grid (sb.Grid) as one JPEG sprite at
// imagePath.
func writeStoryboard(thumbs []*astiav.Frame, sb *transcode.StoryboardPlan, imagePath string) error {
	cols, rows := sb.Grid(len(thumbs))
	// The unused end of the last row is filled black when the input ends.
	sprite, err := filterFrames(fmt.Sprintf("tile=layout=%dx%d:margin=0:padding=0:color=black", cols, rows), thumbs)
	if err != nil {
		return fmt.Errorf("ffmpeg: storyboard: %w", err)
	}
	defer sprite.Free()
	return writeJPEG(sprite, imagePath)
}
