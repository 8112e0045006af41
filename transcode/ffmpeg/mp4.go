package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// openOwnHLS opens an HLS media playlist this engine wrote, to read its
// packets back: only the hls and mp4 demuxers and the file protocol.
func openOwnHLS(ctx context.Context, playlist string) (*astiav.FormatContext, func(), error) {
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return nil, nil, allocError("format context")
	}
	interrupter := fc.SetInterruptCallback()
	stop := context.AfterFunc(ctx, interrupter.Interrupt)
	opts := astiav.NewDictionary()
	defer opts.Free()
	if err := setAll(opts, map[string]string{
		"format_whitelist":   "hls,mov,mp4,m4a,3gp,3g2,mj2",
		"protocol_whitelist": "file",
	}); err != nil {
		stop()
		fc.Free()
		return nil, nil, err
	}
	if err := fc.OpenInput("file:"+playlist, astiav.FindInputFormat("hls"), opts); err != nil {
		stop()
		return nil, nil, fmt.Errorf("ffmpeg: open %s: %w", playlist, err)
	}
	closeFn := func() { stop(); fc.CloseInput() }
	if err := unusedOptions("open "+filepath.Base(playlist), opts); err != nil {
		closeFn()
		return nil, nil, err
	}
	if err := findStreamInfo(fc, 1<<30); err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("ffmpeg: find stream info of %s: %w", playlist, err)
	}
	if fc.NbStreams() != 1 {
		closeFn()
		return nil, nil, fmt.Errorf("ffmpeg: %s has %d streams, want 1", playlist, fc.NbStreams())
	}
	return fc, closeFn, nil
}

// writeMP4 remuxes (no re-encoding) one rung's video and the audio rendition
// from the finished HLS outputs into a progressive MP4 with its index at the
// front (faststart), for download and sharing.
func writeMP4(ctx context.Context, outDir string, l *transcode.Ladder) error {
	playlists := []string{filepath.Join(outDir, l.MP4.Rung, transcode.PlaylistName)}
	if l.Audio != nil {
		playlists = append(playlists, filepath.Join(outDir, l.Audio.Name, transcode.PlaylistName))
	}
	path := filepath.Join(outDir, l.MP4.Name)
	oc, err := astiav.AllocOutputFormatContext(nil, "mp4", path)
	if err != nil {
		return fmt.Errorf("ffmpeg: mp4: alloc muxer: %w", err)
	}
	defer oc.Free()

	type source struct {
		fc   *astiav.FormatContext
		ist  *astiav.Stream
		ost  *astiav.Stream
		pkt  *astiav.Packet
		next int64 // dts of pkt in µs; done when the input is exhausted
		done bool
	}
	var srcs []*source
	for _, pl := range playlists {
		fc, closeFn, err := openOwnHLS(ctx, pl)
		if err != nil {
			return err
		}
		defer closeFn()
		pkt := astiav.AllocPacket()
		defer pkt.Free()
		ist := fc.Streams()[0]
		ost := oc.NewStream(nil)
		if ost == nil {
			return errors.New("ffmpeg: mp4: new stream")
		}
		if err := ist.CodecParameters().Copy(ost.CodecParameters()); err != nil {
			return fmt.Errorf("ffmpeg: mp4: stream parameters: %w", err)
		}
		ost.CodecParameters().SetCodecTag(0)
		ost.SetTimeBase(ist.TimeBase())
		srcs = append(srcs, &source{fc: fc, ist: ist, ost: ost, pkt: pkt})
	}

	pb, err := astiav.OpenIOContext("file:"+path, astiav.NewIOContextFlags(astiav.IOContextFlagWrite))
	if err != nil {
		return fmt.Errorf("ffmpeg: mp4: open output: %w", err)
	}
	defer pb.Close() // a no-op after the checked Close below
	oc.SetPb(pb)
	opts := astiav.NewDictionary()
	defer opts.Free()
	if err := setAll(opts, map[string]string{"movflags": "+faststart"}); err != nil {
		return err
	}
	if err := oc.WriteHeader(opts); err != nil {
		return fmt.Errorf("ffmpeg: mp4: write header: %w", err)
	}
	if err := unusedOptions("mp4 muxer", opts); err != nil {
		return err
	}

	read := func(s *source) error {
		for {
			if err := s.fc.ReadFrame(s.pkt); err != nil {
				if errors.Is(err, astiav.ErrEof) {
					s.done = true
					return nil
				}
				return fmt.Errorf("ffmpeg: mp4: read: %w", err)
			}
			if s.pkt.StreamIndex() != 0 {
				s.pkt.Unref()
				continue
			}
			ts := s.pkt.Dts()
			if ts == astiav.NoPtsValue {
				ts = s.pkt.Pts()
			}
			s.next = astiav.RescaleQ(ts, s.ist.TimeBase(), astiav.NewRational(1, 1_000_000))
			return nil
		}
	}
	for _, s := range srcs {
		if err := read(s); err != nil {
			return err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Write the packet with the earliest timestamp next.
		var s *source
		for _, c := range srcs {
			if !c.done && (s == nil || c.next < s.next) {
				s = c
			}
		}
		if s == nil {
			break
		}
		s.pkt.SetStreamIndex(s.ost.Index())
		s.pkt.RescaleTs(s.ist.TimeBase(), s.ost.TimeBase())
		s.pkt.SetPos(-1)
		if err := oc.WriteInterleavedFrame(s.pkt); err != nil {
			s.pkt.Unref()
			if isLimit(err) {
				return limitError(err)
			}
			return fmt.Errorf("ffmpeg: mp4: write packet: %w", err)
		}
		if err := read(s); err != nil {
			return err
		}
	}
	if err := oc.WriteTrailer(); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: mp4: write trailer: %w", err)
	}
	if err := pb.Close(); err != nil {
		return fmt.Errorf("ffmpeg: mp4: close: %w", err)
	}
	return nil
}
