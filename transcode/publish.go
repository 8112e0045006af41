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
// run qualifies (a clip shorter than half a segment), it is the average;
// it is never below the average (a short first and a short last segment,
// both dense, can make every qualifying run sparser than the whole clip,
// and a master whose AVERAGE-BANDWIDTH exceeds BANDWIDTH is invalid).
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
	return max(int64(math.Ceil(peak)), AverageBitrate(segs))
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

// rewriteMediaPlaylist reads the media playlist at dir/index.m3u8 (the
// engine's EVENT playlist), checks every segment it names exists inside
// dir, writes it back atomically as the final VOD playlist (canonical form:
// type VOD, independent segments, end tag, sched's target duration) and
// returns the segments' sizes.
func rewriteMediaPlaylist(outDir, name string, sched Schedule) (*MediaPlaylist, []SegmentSize, error) {
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
	p = sched.MediaPlaylist(p.Map, p.Segments, true)
	if err := p.Validate(); err != nil {
		return nil, nil, fmt.Errorf("transcode: %s: %w", rel, err)
	}
	if err := writePlaylist(outDir, rel, p); err != nil {
		return nil, nil, err
	}
	return p, sizes, nil
}

// MediaPlaylist returns the canonical media playlist of a rendition of this
// schedule whose init segment is initURI and whose segments are segs: the
// in-progress EVENT playlist (no end tag: more segments will follow), or
// the final VOD one.
func (s Schedule) MediaPlaylist(initURI string, segs []Segment, final bool) *MediaPlaylist {
	p := &MediaPlaylist{
		Version:             playlistVersion,
		TargetDuration:      s.TargetDuration(segs),
		PlaylistType:        "EVENT",
		IndependentSegments: true,
		Map:                 initURI,
		Segments:            segs,
	}
	if final {
		p.PlaylistType, p.EndList = "VOD", true
	}
	return p
}

// writePlaylist writes p atomically as rel (slash-separated) in outDir.
func writePlaylist(outDir, rel string, p *MediaPlaylist) error {
	data, err := p.Marshal()
	if err != nil {
		return fmt.Errorf("transcode: %s: %w", rel, err)
	}
	return writeFileAtomic(filepath.Join(outDir, filepath.FromSlash(rel)), data)
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

// WritePlaylists finishes an out dir the engine filled: it checks and
// rewrites every media playlist of l's renditions as a final VOD playlist,
// then writes master.m3u8 with each variant's peak and average bandwidth
// (audio included) measured on the segments, resolution, codecs (codecs[i]
// is the RFC 6381 video codec of rung i of VideoRungs, e.g. from AVCCodec)
// and frame rate.
// Every file is replaced atomically (a temporary file beside it, renamed),
// so a reader sees the EVENT or the VOD version, never a mix. It returns the
// renditions as the master lists them and the duration of the longest
// rendition.
func WritePlaylists(outDir string, l *Ladder, codecs []string) ([]shopclip.Rendition, time.Duration, error) {
	rungs := l.VideoRungs()
	if len(codecs) != len(rungs) {
		return nil, 0, fmt.Errorf("transcode: %d codecs for %d rungs", len(codecs), len(rungs))
	}
	sched := l.Schedule()
	target := time.Duration(l.SegmentDurationMS) * time.Millisecond
	var audio, video []SegmentSize
	var longest time.Duration
	if l.Audio != nil {
		p, sizes, err := rewriteMediaPlaylist(outDir, l.Audio.Name, sched)
		if err != nil {
			return nil, 0, err
		}
		audio, longest = sizes, p.Duration()
	}
	bandwidths := make([][2]int64, len(rungs))
	for i, r := range rungs {
		p, sizes, err := rewriteMediaPlaylist(outDir, r.Name, sched)
		if err != nil {
			return nil, 0, err
		}
		longest = max(longest, p.Duration())
		video = sizes
		bandwidths[i] = [2]int64{PeakBitrate(video, target) + PeakBitrate(audio, target), AverageBitrate(video) + AverageBitrate(audio)}
	}
	m, renditions := l.master(codecs, func(i int) (int64, int64) { return bandwidths[i][0], bandwidths[i][1] })
	if err := writeMaster(outDir, m); err != nil {
		return nil, 0, err
	}
	return renditions, longest, nil
}

// ProvisionalMaster returns the master playlist to publish while the
// ladder is still being made, once every variant has its first segment:
// the variants of the final one, in the same order, with the same
// resolution, codecs (codecs[i] is the RFC 6381 video codec of rung i of
// VideoRungs), frame rate and audio group, but no AVERAGE-BANDWIDTH and a BANDWIDTH that is an
// upper bound of the peak WritePlaylists will measure (for clips of at
// least half a segment): see BandwidthBound.
func (l *Ladder) ProvisionalMaster(codecs []string) (*MasterPlaylist, error) {
	if n := len(l.VideoRungs()); len(codecs) != n {
		return nil, fmt.Errorf("transcode: %d codecs for %d rungs", len(codecs), n)
	}
	m, _ := l.master(codecs, func(i int) (int64, int64) { return l.BandwidthBound(i), 0 })
	return m, nil
}

// BandwidthBound returns an upper bound of the peak bit rate (as PeakBitrate
// measures it, on runs of segments lasting at least half the segment
// duration S) of the variant of rung i of VideoRungs, audio included, before
// it is measured.
//
// libx264's rate control keeps the rung's video inside its VBV model (rate
// MaxRate, buffer BufSize, which starts 90% full), so any T seconds of it
// hold at most MaxRate·T + BufSize bits: at most MaxRate + 2·BufSize/S bits
// per second over T ≥ S/2 (3 × MaxRate with the default 2 s segments and a
// buffer of twice the rate). The fMP4 boxes (moof, sidx, styp) add about
// 1%; 5% is added. The AAC encoder's rate runs a few percent over its
// nominal bit rate on short windows; the audio adds 25% more than nominal.
// The bound is loose — a player sees the clip's variants as more expensive
// than they are until the final master, measured, replaces this one — but
// it is never below the measured peak, so no player is led to pick a
// variant its connection cannot carry.
func (l *Ladder) BandwidthBound(i int) int64 {
	r := l.VideoRungs()[i]
	minWindow := float64(l.SegmentDurationMS) / 2000 // seconds
	video := (float64(r.MaxRate) + float64(r.BufSize)/minWindow) * 1.05
	var audio float64
	if l.Audio != nil {
		audio = float64(l.Audio.Bitrate) * 1.25
	}
	return int64(math.Ceil(video + audio))
}

// master builds the master playlist of l's variants; bandwidth returns
// variant i's BANDWIDTH and AVERAGE-BANDWIDTH (0 for none).
func (l *Ladder) master(codecs []string, bandwidth func(i int) (peak, avg int64)) (*MasterPlaylist, []shopclip.Rendition) {
	m := &MasterPlaylist{Version: playlistVersion, IndependentSegments: true}
	audioCodec := ""
	if l.Audio != nil {
		audioCodec = "," + AACLCCodec
		m.Media = append(m.Media, MediaRendition{
			Type: "AUDIO", GroupID: l.Audio.Group, Name: "Audio", Default: true, AutoSelect: true,
			Channels: strconv.Itoa(l.Audio.Channels), URI: path.Join(l.Audio.Name, PlaylistName),
		})
	}
	var renditions []shopclip.Rendition
	for i, r := range l.VideoRungs() {
		peak, avg := bandwidth(i)
		v := Variant{
			Bandwidth:        peak,
			AverageBandwidth: avg,
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
	return m, renditions
}

// writeMaster validates m and writes it atomically as outDir/master.m3u8.
func writeMaster(outDir string, m *MasterPlaylist) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("transcode: master playlist: %w", err)
	}
	data, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("transcode: master playlist: %w", err)
	}
	return writeFileAtomic(filepath.Join(outDir, MasterName), data)
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
