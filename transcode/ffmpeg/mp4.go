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
	m, err := newMP4File(filepath.Join(outDir, l.MP4.Name))
	if err != nil {
		return err
	}
	defer m.close()

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
		ost, err := m.addStream(ist.TimeBase(), ist.CodecParameters().Copy)
		if err != nil {
			return err
		}
		srcs = append(srcs, &source{fc: fc, ist: ist, ost: ost, pkt: pkt})
	}
	if err := m.open(); err != nil {
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
		if err := m.write(s.pkt); err != nil {
			return err
		}
		if err := read(s); err != nil {
			return err
		}
	}
	return m.finish()
}

// mp4File is a progressive MP4 being written to a local file by FFmpeg's
// mp4 muxer, with its index at the front (faststart). Add its streams, open
// it, write packets, finish it; close frees it in any case.
type mp4File struct {
	path string
	oc   *astiav.FormatContext
	pb   *astiav.IOContext // nil until open
}

func newMP4File(path string) (*mp4File, error) {
	oc, err := astiav.AllocOutputFormatContext(nil, "mp4", path)
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: mp4: alloc muxer: %w", err)
	}
	return &mp4File{path: path, oc: oc}, nil
}

// addStream adds a stream in time base tb whose codec parameters params
// fills (from an input stream's or an encoder's); its codec tag is left to
// the muxer.
func (m *mp4File) addStream(tb astiav.Rational, params func(*astiav.CodecParameters) error) (*astiav.Stream, error) {
	ost := m.oc.NewStream(nil)
	if ost == nil {
		return nil, errors.New("ffmpeg: mp4: new stream")
	}
	if err := params(ost.CodecParameters()); err != nil {
		return nil, fmt.Errorf("ffmpeg: mp4: stream parameters: %w", err)
	}
	ost.CodecParameters().SetCodecTag(0)
	ost.SetTimeBase(tb)
	return ost, nil
}

// open creates the file and writes the header. The muxer may change the
// streams' time bases: read them after.
func (m *mp4File) open() error {
	pb, err := astiav.OpenIOContext("file:"+m.path, astiav.NewIOContextFlags(astiav.IOContextFlagWrite))
	if err != nil {
		return fmt.Errorf("ffmpeg: mp4: open output: %w", err)
	}
	m.pb = pb
	m.oc.SetPb(pb)
	opts := astiav.NewDictionary()
	defer opts.Free()
	if err := setAll(opts, map[string]string{"movflags": "+faststart"}); err != nil {
		return err
	}
	if err := m.oc.WriteHeader(opts); err != nil {
		return fmt.Errorf("ffmpeg: mp4: write header: %w", err)
	}
	return unusedOptions("mp4 muxer", opts)
}

// write muxes pkt (stream index and timestamps already the output's) and
// unreferences it.
func (m *mp4File) write(pkt *astiav.Packet) error {
	pkt.SetPos(-1)
	if err := m.oc.WriteInterleavedFrame(pkt); err != nil {
		pkt.Unref()
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: mp4: write packet: %w", err)
	}
	return nil
}

// finish writes the trailer (moving the index to the front) and closes
// the file.
func (m *mp4File) finish() error {
	if err := m.oc.WriteTrailer(); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: mp4: write trailer: %w", err)
	}
	if err := m.pb.Close(); err != nil {
		return fmt.Errorf("ffmpeg: mp4: close: %w", err)
	}
	return nil
}

// close closes the file if finish did not, and frees the muxer.
func (m *mp4File) close() {
	if m.pb != nil {
		_ = m.pb.Close() // a no-op after finish
	}
	m.oc.Free()
}
