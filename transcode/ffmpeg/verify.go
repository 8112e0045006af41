package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/asticode/go-astiav"
)

// VerifyResult is what VerifyHLS found in a rendition.
type VerifyResult struct {
	Frames       int64         // video frames decoded
	Width        int           // of the decoded frames
	Height       int           //
	Codec        string        // e.g. "h264"
	PixFmt       string        // of the decoded frames, e.g. "yuv420p"
	Duration     time.Duration // from the first frame's timestamp to the end of the last
	DecodeErrors int           // packets or frames the decoder rejected
	SizeChanges  int           // frames whose size differs from the first
	AudioPackets int64         // audio packets read (not decoded)
}

// VerifyHLS opens the local HLS media playlist at playlistPath (absolute)
// and decodes every video frame of it: test support for the end-to-end
// tests, an independent check that a published rendition plays. Only the
// file protocol and the hls and mp4 demuxers are allowed.
func VerifyHLS(ctx context.Context, playlistPath string) (*VerifyResult, error) {
	return verify(ctx, playlistPath, "hls", "hls,mov,mp4,m4a,3gp,3g2,mj2")
}

// VerifyMP4 is VerifyHLS for an MP4 file (such as clip.mp4): it decodes
// every video frame and counts the audio packets.
func VerifyMP4(ctx context.Context, path string) (*VerifyResult, error) {
	return verify(ctx, path, "mov", "mov,mp4,m4a,3gp,3g2,mj2")
}

func verify(ctx context.Context, playlistPath, format, formats string) (*VerifyResult, error) {
	ensureLogging()
	if !filepath.IsAbs(playlistPath) {
		return nil, fmt.Errorf("ffmpeg: verify: %q is not an absolute path", playlistPath)
	}
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return nil, allocError("format context")
	}
	interrupter := fc.SetInterruptCallback()
	stop := context.AfterFunc(ctx, interrupter.Interrupt)
	defer stop()
	opts := astiav.NewDictionary()
	defer opts.Free()
	if err := setAll(opts, map[string]string{
		"format_whitelist":   formats,
		"protocol_whitelist": "file",
	}); err != nil {
		fc.Free()
		return nil, err
	}
	if err := fc.OpenInput("file:"+playlistPath, astiav.FindInputFormat(format), opts); err != nil {
		return nil, fmt.Errorf("ffmpeg: verify: open %s: %w", playlistPath, err)
	}
	defer fc.CloseInput()
	if err := unusedOptions("verify: open", opts); err != nil {
		return nil, err
	}
	if err := findStreamInfo(fc, 1<<30); err != nil {
		return nil, fmt.Errorf("ffmpeg: verify: find stream info: %w", err)
	}
	var video *astiav.Stream
	for _, s := range fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo && video == nil {
			video = s
		}
	}
	res := &VerifyResult{}
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	frame := astiav.AllocFrame()
	defer frame.Free()
	if video == nil {
		// An audio rendition: count its packets.
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := fc.ReadFrame(pkt); err != nil {
				if errors.Is(err, astiav.ErrEof) {
					return res, nil
				}
				return nil, fmt.Errorf("ffmpeg: verify: read: %w", err)
			}
			if pkt.Size() > 0 {
				res.AudioPackets++
			}
			pkt.Unref()
		}
	}
	codec := astiav.FindDecoder(video.CodecParameters().CodecID())
	if codec == nil {
		return nil, fmt.Errorf("ffmpeg: verify: no decoder for %s", video.CodecParameters().CodecID())
	}
	res.Codec = codecName(video.CodecParameters().CodecID())
	dec := astiav.AllocCodecContext(codec)
	if dec == nil {
		return nil, allocError("decoder")
	}
	defer dec.Free()
	if err := video.CodecParameters().ToCodecContext(dec); err != nil {
		return nil, fmt.Errorf("ffmpeg: verify: decoder parameters: %w", err)
	}
	if err := dec.Open(codec, nil); err != nil {
		return nil, fmt.Errorf("ffmpeg: verify: open decoder: %w", err)
	}
	tb := video.TimeBase()
	first, end := astiav.NoPtsValue, int64(0)
	receive := func() {
		for {
			err := dec.ReceiveFrame(frame)
			if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
				return
			}
			if err != nil {
				res.DecodeErrors++
				return
			}
			if decodeErrorFlags(frame) != 0 {
				res.DecodeErrors++
			}
			if res.Frames == 0 {
				res.Width, res.Height = frame.Width(), frame.Height()
				res.PixFmt = frame.PixelFormat().Name()
			} else if frame.Width() != res.Width || frame.Height() != res.Height {
				res.SizeChanges++
			}
			res.Frames++
			if ts := bestEffortTimestamp(frame); ts != astiav.NoPtsValue {
				if first == astiav.NoPtsValue || ts < first {
					first = ts
				}
				end = max(end, ts+max(frameDuration(frame), 0))
			}
			frame.Unref()
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := fc.ReadFrame(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				break
			}
			return nil, fmt.Errorf("ffmpeg: verify: read: %w", err)
		}
		switch pkt.StreamIndex() {
		case video.Index():
			if err := dec.SendPacket(pkt); err != nil {
				res.DecodeErrors++
			}
			pkt.Unref()
			receive()
		default:
			if pkt.Size() > 0 {
				res.AudioPackets++
			}
			pkt.Unref()
		}
	}
	if err := dec.SendPacket(nil); err == nil {
		receive()
	}
	if first != astiav.NoPtsValue {
		res.Duration = time.Duration(astiav.RescaleQ(end-first, tb, astiav.NewRational(1, 1_000_000))) * time.Microsecond
	}
	return res, nil
}
