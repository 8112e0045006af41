package transcode

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/shopclip/shopclip"
)

// SegmentSize is a media segment's duration and size.
type SegmentSize struct {
	Duration time.Duration
	Bytes    int64
}

// PeakBitrate returns the peak segment bit rate of segments, as RFC 8216bis
// defines it for BANDWIDTH: the largest bit rate of any run of consecutive
// segments lasting between 0.5 and 1.5 times the target duration. When no
// run qualifies (a clip shorter than half a segment), it is the average.
func PeakBitrate(segs []SegmentSize, target time.Duration) int64 {
	var peak float64
	for i := range segs {
		var dur time.Duration
		var bits float64
		for j := i; j < len(segs); j++ {
			dur += segs[j].Duration
			bits += float64(segs[j].Bytes) * 8
			if dur > target*3/2 {
				break
			}
			if dur >= target/2 {
				peak = math.Max(peak, bits/dur.Seconds())
			}
		}
	}
	if peak == 0 {
		return AverageBitrate(segs)
	}
	return int64(math.Ceil(peak))
}

// AverageBitrate returns the total size of segments over their total
// duration, in bits per second.
func AverageBitrate(segs []SegmentSize) int64 {
	var dur time.Duration
	var bytes int64
	for _, s := range segs {
		dur += s.Duration
		bytes += s.Bytes
	}
	if dur <= 0 {
		return 0
	}
	return int64(math.Ceil(float64(bytes) * 8 / dur.Seconds()))
}

// playlistVersion is the EXT-X-VERSION of the playlists we write: 7, as
// FFmpeg's hls muxer writes for fMP4 (6 is the minimum for EXT-X-MAP in a
// media playlist without I-frames-only).
const playlistVersion = 7

// rewriteMediaPlaylist reads the media playlist at dir/index.m3u8 (as the
// muxer wrote it), checks every segment it names exists inside dir, writes
// it back in canonical form (computed target duration, VOD, independent
// segments, end tag) and returns the segments' sizes.
func rewriteMediaPlaylist(outDir, name string) (*MediaPlaylist, []SegmentSize, error) {
	rel := path.Join(name, PlaylistName)
	file := filepath.Join(outDir, filepath.FromSlash(rel))
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("transcode: read %s: %w", rel, err)
	}
	p, err := ParseMediaPlaylist(data)
	if err != nil {
		return nil, nil, fmt.Errorf("transcode: parse %s: %w", rel, err)
	}
	if len(p.Segments) == 0 {
		return nil, nil, fmt.Errorf("transcode: %s has no segments", rel)
	}
	if _, err := existing(outDir, rel, p.Map); err != nil {
		return nil, nil, err
	}
	sizes := make([]SegmentSize, len(p.Segments))
	for i, s := range p.Segments {
		n, err := existing(outDir, rel, s.URI)
		if err != nil {
			return nil, nil, err
		}
		sizes[i] = SegmentSize{Duration: s.Duration, Bytes: n}
	}
	p.Version = playlistVersion
	p.PlaylistType = "VOD"
	p.IndependentSegments = true
	p.EndList = true
	p.MediaSequence = 0
	p.TargetDuration = TargetDurationFor(p.Segments)
	if err := p.Validate(); err != nil {
		return nil, nil, fmt.Errorf("transcode: %s: %w", rel, err)
	}
	out, err := p.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("transcode: %s: %w", rel, err)
	}
	if err := writeFileAtomic(file, out); err != nil {
		return nil, nil, err
	}
	return p, sizes, nil
}

// existing returns the size of the regular file a playlist URI names, or an
// error when it is missing, empty or outside the out dir.
func existing(outDir, playlist, uri string) (int64, error) {
	rel, err := ResolveURI(playlist, uri)
	if err != nil {
		return 0, fmt.Errorf("transcode: %s: %w", playlist, err)
	}
	fi, err := os.Lstat(filepath.Join(outDir, filepath.FromSlash(rel)))
	if err != nil {
		return 0, fmt.Errorf("transcode: %s names %s: %w", playlist, uri, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return 0, fmt.Errorf("transcode: %s names %s, which is not a non-empty regular file", playlist, uri)
	}
	return fi.Size(), nil
}

// WritePlaylists finishes an out dir the engine's muxers filled: it checks
// and rewrites every media playlist of l's renditions, then writes
// master.m3u8 with each variant's peak and average bandwidth (audio
// included), resolution, codecs (codecs[i] is rung i's RFC 6381 video codec,
// e.g. from AVCCodec) and frame rate. It returns the renditions as the
// master lists them and the duration of the longest rendition.
func WritePlaylists(outDir string, l *Ladder, codecs []string) ([]shopclip.Rendition, time.Duration, error) {
	if len(codecs) != len(l.Rungs) {
		return nil, 0, fmt.Errorf("transcode: %d codecs for %d rungs", len(codecs), len(l.Rungs))
	}
	target := time.Duration(l.SegmentDurationMS) * time.Millisecond
	m := &MasterPlaylist{Version: playlistVersion, IndependentSegments: true}
	var audioPeak, audioAvg int64
	var longest time.Duration
	audioCodec := ""
	if l.Audio != nil {
		p, sizes, err := rewriteMediaPlaylist(outDir, l.Audio.Name)
		if err != nil {
			return nil, 0, err
		}
		audioPeak, audioAvg = PeakBitrate(sizes, target), AverageBitrate(sizes)
		longest = p.Duration()
		audioCodec = "," + AACLCCodec
		m.Media = append(m.Media, MediaRendition{
			Type: "AUDIO", GroupID: l.Audio.Group, Name: "Audio", Default: true, AutoSelect: true,
			Channels: strconv.Itoa(l.Audio.Channels), URI: path.Join(l.Audio.Name, PlaylistName),
		})
	}
	var renditions []shopclip.Rendition
	for i, r := range l.Rungs {
		p, sizes, err := rewriteMediaPlaylist(outDir, r.Name)
		if err != nil {
			return nil, 0, err
		}
		longest = max(longest, p.Duration())
		v := Variant{
			Bandwidth:        PeakBitrate(sizes, target) + audioPeak,
			AverageBandwidth: AverageBitrate(sizes) + audioAvg,
			Width:            r.Width,
			Height:           r.Height,
			Codecs:           codecs[i] + audioCodec,
			FrameRate:        roundRate(r.FrameRate.Float()),
			URI:              path.Join(r.Name, PlaylistName),
		}
		if l.Audio != nil {
			v.Audio = l.Audio.Group
		}
		m.Variants = append(m.Variants, v)
		renditions = append(renditions, shopclip.Rendition{
			Name: r.Name, Width: r.Width, Height: r.Height, Bandwidth: v.Bandwidth, Codecs: v.Codecs,
		})
	}
	if err := m.Validate(); err != nil {
		return nil, 0, fmt.Errorf("transcode: master playlist: %w", err)
	}
	data, err := m.Marshal()
	if err != nil {
		return nil, 0, fmt.Errorf("transcode: master playlist: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(outDir, MasterName), data); err != nil {
		return nil, 0, err
	}
	return renditions, longest, nil
}

// CheckOutputs validates a finished out dir independently of how it was
// made (RELIABILITY B11): the master parses and is consistent; every media
// playlist it names parses and is a valid VOD playlist; every init and media
// segment exists, non-empty, inside the dir. It returns the media playlists
// by their path in the dir.
func CheckOutputs(outDir string) (map[string]*MediaPlaylist, error) {
	data, err := os.ReadFile(filepath.Join(outDir, MasterName))
	if err != nil {
		return nil, fmt.Errorf("transcode: check outputs: %w", err)
	}
	m, err := ParseMasterPlaylist(data)
	if err != nil {
		return nil, fmt.Errorf("transcode: check %s: %w", MasterName, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("transcode: check %s: %w", MasterName, err)
	}
	var uris []string
	for _, r := range m.Media {
		if r.URI != "" {
			uris = append(uris, r.URI)
		}
	}
	for _, v := range m.Variants {
		uris = append(uris, v.URI)
	}
	out := map[string]*MediaPlaylist{}
	var errs []error
	for _, uri := range uris {
		rel, err := ResolveURI(MasterName, uri)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		data, err := os.ReadFile(filepath.Join(outDir, filepath.FromSlash(rel)))
		if err != nil {
			errs = append(errs, fmt.Errorf("transcode: check outputs: %w", err))
			continue
		}
		p, err := ParseMediaPlaylist(data)
		if err == nil {
			err = p.Validate()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("transcode: check %s: %w", rel, err))
			continue
		}
		if _, err := existing(outDir, rel, p.Map); err != nil {
			errs = append(errs, err)
		}
		for _, s := range p.Segments {
			if _, err := existing(outDir, rel, s.URI); err != nil {
				errs = append(errs, err)
			}
		}
		out[rel] = p
	}
	return out, errors.Join(errs...)
}

// ListOutputs returns every regular file under outDir with its size, sorted
// by path with master.m3u8 last: the order to upload them in.
func ListOutputs(outDir string) ([]Output, error) {
	var outs []Output
	err := filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(outDir, p)
		if err != nil {
			return err
		}
		outs = append(outs, Output{Path: filepath.ToSlash(rel), Bytes: fi.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("transcode: list outputs: %w", err)
	}
	slices.SortFunc(outs, func(a, b Output) int {
		if (a.Path == MasterName) != (b.Path == MasterName) {
			if a.Path == MasterName {
				return 1
			}
			return -1
		}
		if a.Path < b.Path {
			return -1
		}
		if a.Path > b.Path {
			return 1
		}
		return 0
	})
	return outs, nil
}

// writeFileAtomic writes data to a temporary file beside name and renames it
// into place.
func writeFileAtomic(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("transcode: write %s: %w", filepath.Base(name), err)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("transcode: write %s: %w", filepath.Base(name), err)
	}
	return nil
}
