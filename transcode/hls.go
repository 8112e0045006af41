package transcode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
)

// MediaPlaylist is an HLS media playlist of fMP4 segments (RFC 8216): VOD
// when complete, EVENT while segments are still being added.
// Only the tags this pipeline writes are modelled; ParseMediaPlaylist
// rejects others, so a parsed playlist always marshals back to the same
// bytes.
type MediaPlaylist struct {
	Version             int
	TargetDuration      int // seconds
	MediaSequence       int
	PlaylistType        string // "VOD", "EVENT" or ""
	IndependentSegments bool
	Map                 string // EXT-X-MAP URI (the init segment)
	Segments            []Segment
	EndList             bool
}

// Segment is one media segment.
type Segment struct {
	URI      string
	Duration time.Duration // EXTINF, microsecond precision
}

// MasterPlaylist is an HLS multivariant playlist: renditions (EXT-X-MEDIA)
// and variant streams (EXT-X-STREAM-INF).
type MasterPlaylist struct {
	Version             int
	IndependentSegments bool
	Media               []MediaRendition
	Variants            []Variant
}

// MediaRendition is an EXT-X-MEDIA tag.
type MediaRendition struct {
	Type       string // "AUDIO"
	GroupID    string
	Name       string
	Language   string
	Default    bool
	AutoSelect bool
	Channels   string
	URI        string
}

// Variant is an EXT-X-STREAM-INF tag and its URI.
type Variant struct {
	Bandwidth        int64 // peak bits per second, audio included
	AverageBandwidth int64
	Width, Height    int
	Codecs           string
	FrameRate        float64 // written with 3 decimals
	Audio            string  // audio GROUP-ID
	URI              string
}

// TargetDurationFor returns the EXT-X-TARGETDURATION for segments: the
// largest duration rounded to the nearest whole second, at least 1, which is
// exactly RFC 8216's rule (every EXTINF, rounded to the nearest integer, is
// at most the target). A 2.002 s segment of 29.97 fps video keeps a target
// of 2.
func TargetDurationFor(segs []Segment) int {
	t := 1
	for _, s := range segs {
		t = max(t, int(math.Round(s.Duration.Seconds())))
	}
	return t
}

// Validate checks p is a complete VOD playlist as this pipeline publishes
// it: version ≥ 6 (fMP4), type VOD, an init segment, at least one segment,
// positive durations each within the target duration, and the end tag.
func (p *MediaPlaylist) Validate() error { return p.validate("VOD") }

// ValidateEvent checks p is an in-progress EVENT playlist as this pipeline
// publishes it while a transcode runs: like Validate, but of type EVENT and
// without the end tag.
func (p *MediaPlaylist) ValidateEvent() error { return p.validate("EVENT") }

func (p *MediaPlaylist) validate(kind string) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("hls: "+format, args...)) }
	if p.Version < 6 {
		bad("version %d < 6 cannot hold fMP4 segments", p.Version)
	}
	if p.PlaylistType != kind {
		bad("playlist type %q, want %s", p.PlaylistType, kind)
	}
	if p.Map == "" {
		bad("no EXT-X-MAP")
	}
	if len(p.Segments) == 0 {
		bad("no segments")
	}
	for i, s := range p.Segments {
		if s.Duration <= 0 {
			bad("segment %d (%s): duration %v", i, s.URI, s.Duration)
		}
		if r := int(math.Round(s.Duration.Seconds())); r > p.TargetDuration {
			bad("segment %d (%s): duration %v exceeds target duration %d", i, s.URI, s.Duration, p.TargetDuration)
		}
	}
	if kind == "VOD" && !p.EndList {
		bad("no EXT-X-ENDLIST")
	}
	if kind == "EVENT" && p.EndList {
		bad("EXT-X-ENDLIST in an EVENT playlist still being written")
	}
	return errors.Join(errs...)
}

// Duration returns the sum of the segment durations.
func (p *MediaPlaylist) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.Segments {
		d += s.Duration
	}
	return d
}

// Marshal returns the playlist's text. It fails on values that cannot be
// written faithfully (a URI with a line break or a quote, a negative
// duration).
func (p *MediaPlaylist) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n")
	if p.Version > 0 {
		fmt.Fprintf(&b, "#EXT-X-VERSION:%d\n", p.Version)
	}
	if p.TargetDuration < 0 || p.MediaSequence < 0 {
		return nil, errors.New("hls: negative target duration or media sequence")
	}
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", p.TargetDuration)
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", p.MediaSequence)
	if p.PlaylistType != "" {
		if p.PlaylistType != "VOD" && p.PlaylistType != "EVENT" {
			return nil, fmt.Errorf("hls: playlist type %q", p.PlaylistType)
		}
		fmt.Fprintf(&b, "#EXT-X-PLAYLIST-TYPE:%s\n", p.PlaylistType)
	}
	if p.IndependentSegments {
		b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	}
	if p.Map != "" {
		if err := checkQuoted(p.Map); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q\n", p.Map)
	}
	for _, s := range p.Segments {
		if err := checkURI(s.URI); err != nil {
			return nil, err
		}
		if s.Duration < 0 || s.Duration%time.Microsecond != 0 {
			return nil, fmt.Errorf("hls: segment %q: duration %v is negative or finer than a microsecond", s.URI, s.Duration)
		}
		fmt.Fprintf(&b, "#EXTINF:%s,\n%s\n", formatSeconds(s.Duration), s.URI)
	}
	if p.EndList {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.Bytes(), nil
}

// ParseMediaPlaylist parses a media playlist written by Marshal or by
// FFmpeg's hls muxer. It is strict: unknown tags, a missing URI after
// EXTINF, duplicate tags and malformed numbers are errors.
func ParseMediaPlaylist(data []byte) (*MediaPlaylist, error) {
	lines, err := playlistLines(data)
	if err != nil {
		return nil, err
	}
	p := &MediaPlaylist{}
	seen := map[string]bool{}
	once := func(tag string) error {
		if seen[tag] {
			return fmt.Errorf("hls: duplicate %s", tag)
		}
		seen[tag] = true
		return nil
	}
	var pending *time.Duration
	for i := 1; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasPrefix(line, "#") {
			if pending == nil {
				return nil, fmt.Errorf("hls: line %d: URI %q without EXTINF", i+1, line)
			}
			if err := checkURI(line); err != nil {
				return nil, err
			}
			p.Segments = append(p.Segments, Segment{URI: line, Duration: *pending})
			pending = nil
			continue
		}
		if pending != nil {
			return nil, fmt.Errorf("hls: line %d: tag after EXTINF, want a URI", i+1)
		}
		tag, value, _ := strings.Cut(line, ":")
		if p.EndList {
			return nil, fmt.Errorf("hls: line %d: %s after EXT-X-ENDLIST", i+1, tag)
		}
		switch tag {
		case "#EXT-X-VERSION":
			if err := once(tag); err != nil {
				return nil, err
			}
			if p.Version, err = parseCount(value, 1); err != nil {
				return nil, err
			}
		case "#EXT-X-TARGETDURATION":
			if err := once(tag); err != nil {
				return nil, err
			}
			if p.TargetDuration, err = parseCount(value, 0); err != nil {
				return nil, err
			}
		case "#EXT-X-MEDIA-SEQUENCE":
			if err := once(tag); err != nil {
				return nil, err
			}
			if p.MediaSequence, err = parseCount(value, 0); err != nil {
				return nil, err
			}
		case "#EXT-X-PLAYLIST-TYPE":
			if err := once(tag); err != nil {
				return nil, err
			}
			if value != "VOD" && value != "EVENT" {
				return nil, fmt.Errorf("hls: playlist type %q", value)
			}
			p.PlaylistType = value
		case "#EXT-X-INDEPENDENT-SEGMENTS":
			if err := once(tag); err != nil {
				return nil, err
			}
			if value != "" || strings.Contains(line, ":") {
				return nil, fmt.Errorf("hls: %s takes no value", tag)
			}
			p.IndependentSegments = true
		case "#EXT-X-MAP":
			if err := once(tag); err != nil {
				return nil, err
			}
			if len(p.Segments) > 0 {
				return nil, errors.New("hls: EXT-X-MAP after the first segment")
			}
			attrs, err := parseAttributes(value)
			if err != nil {
				return nil, err
			}
			uri, ok := attrs.quoted("URI")
			if !ok || len(attrs) != 1 || uri == "" {
				return nil, fmt.Errorf("hls: EXT-X-MAP %q: want exactly a quoted URI", value)
			}
			p.Map = uri
		case "#EXTINF":
			ds, title, ok := strings.Cut(value, ",")
			if !ok || title != "" {
				return nil, fmt.Errorf("hls: line %d: EXTINF %q: want DURATION, with no title", i+1, value)
			}
			d, err := parseSeconds(ds)
			if err != nil {
				return nil, fmt.Errorf("hls: line %d: %w", i+1, err)
			}
			pending = &d
		case "#EXT-X-ENDLIST":
			if value != "" || strings.Contains(line, ":") {
				return nil, fmt.Errorf("hls: %s takes no value", tag)
			}
			p.EndList = true
		default:
			return nil, fmt.Errorf("hls: line %d: unsupported tag %q", i+1, tag)
		}
	}
	if pending != nil {
		return nil, errors.New("hls: EXTINF without a URI at the end")
	}
	if !seen["#EXT-X-TARGETDURATION"] {
		return nil, errors.New("hls: no EXT-X-TARGETDURATION")
	}
	if !seen["#EXT-X-MEDIA-SEQUENCE"] {
		// Optional in RFC 8216 (default 0), but Marshal always writes it; a
		// playlist without it would not round-trip.
		return nil, errors.New("hls: no EXT-X-MEDIA-SEQUENCE")
	}
	return p, nil
}

// Marshal returns the master playlist's text.
func (m *MasterPlaylist) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n")
	if m.Version > 0 {
		fmt.Fprintf(&b, "#EXT-X-VERSION:%d\n", m.Version)
	}
	if m.IndependentSegments {
		b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	}
	for _, r := range m.Media {
		if r.Type != "AUDIO" && r.Type != "VIDEO" && r.Type != "SUBTITLES" {
			return nil, fmt.Errorf("hls: media type %q", r.Type)
		}
		if r.GroupID == "" || r.Name == "" {
			return nil, errors.New("hls: media rendition without GROUP-ID or NAME")
		}
		for _, s := range []string{r.GroupID, r.Name, r.Language, r.Channels, r.URI} {
			if err := checkQuoted(s); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=%s,GROUP-ID=%q,NAME=%q", r.Type, r.GroupID, r.Name)
		if r.Language != "" {
			fmt.Fprintf(&b, ",LANGUAGE=%q", r.Language)
		}
		fmt.Fprintf(&b, ",DEFAULT=%s,AUTOSELECT=%s", yesNo(r.Default), yesNo(r.AutoSelect))
		if r.Channels != "" {
			fmt.Fprintf(&b, ",CHANNELS=%q", r.Channels)
		}
		if r.URI != "" {
			fmt.Fprintf(&b, ",URI=%q", r.URI)
		}
		b.WriteString("\n")
	}
	for _, v := range m.Variants {
		if v.Bandwidth <= 0 || v.AverageBandwidth < 0 || v.Width < 0 || v.Height < 0 || (v.Width == 0) != (v.Height == 0) {
			return nil, fmt.Errorf("hls: variant %q: bad bandwidth or resolution", v.URI)
		}
		if v.FrameRate < 0 || v.FrameRate > 1000 || math.IsNaN(v.FrameRate) || roundRate(v.FrameRate) != v.FrameRate {
			return nil, fmt.Errorf("hls: variant %q: frame rate %v is not a positive number with at most 3 decimals", v.URI, v.FrameRate)
		}
		for _, s := range []string{v.Codecs, v.Audio} {
			if err := checkQuoted(s); err != nil {
				return nil, err
			}
		}
		if err := checkURI(v.URI); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d", v.Bandwidth)
		if v.AverageBandwidth > 0 {
			fmt.Fprintf(&b, ",AVERAGE-BANDWIDTH=%d", v.AverageBandwidth)
		}
		if v.Width > 0 {
			fmt.Fprintf(&b, ",RESOLUTION=%dx%d", v.Width, v.Height)
		}
		if v.Codecs != "" {
			fmt.Fprintf(&b, ",CODECS=%q", v.Codecs)
		}
		if v.FrameRate > 0 {
			fmt.Fprintf(&b, ",FRAME-RATE=%.3f", v.FrameRate)
		}
		if v.Audio != "" {
			fmt.Fprintf(&b, ",AUDIO=%q", v.Audio)
		}
		fmt.Fprintf(&b, "\n%s\n", v.URI)
	}
	return b.Bytes(), nil
}

// Validate checks the master playlist is usable: at least one variant, each
// with bandwidth, and every AUDIO group a variant names is defined.
func (m *MasterPlaylist) Validate() error {
	var errs []error
	if len(m.Variants) == 0 {
		errs = append(errs, errors.New("hls: master playlist without variants"))
	}
	groups := map[string]bool{}
	for _, r := range m.Media {
		if r.Type == "AUDIO" {
			groups[r.GroupID] = true
		}
	}
	for _, v := range m.Variants {
		if v.Audio != "" && !groups[v.Audio] {
			errs = append(errs, fmt.Errorf("hls: variant %q names undefined audio group %q", v.URI, v.Audio))
		}
		if v.AverageBandwidth > v.Bandwidth {
			errs = append(errs, fmt.Errorf("hls: variant %q: average bandwidth above peak", v.URI))
		}
	}
	return errors.Join(errs...)
}

// ParseMasterPlaylist parses a master playlist written by Marshal.
func ParseMasterPlaylist(data []byte) (*MasterPlaylist, error) {
	lines, err := playlistLines(data)
	if err != nil {
		return nil, err
	}
	m := &MasterPlaylist{}
	var pending *Variant
	seenVersion, seenIndep := false, false
	for i := 1; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasPrefix(line, "#") {
			if pending == nil {
				return nil, fmt.Errorf("hls: line %d: URI %q without EXT-X-STREAM-INF", i+1, line)
			}
			if err := checkURI(line); err != nil {
				return nil, err
			}
			pending.URI = line
			m.Variants = append(m.Variants, *pending)
			pending = nil
			continue
		}
		if pending != nil {
			return nil, fmt.Errorf("hls: line %d: tag after EXT-X-STREAM-INF, want a URI", i+1)
		}
		tag, value, _ := strings.Cut(line, ":")
		switch tag {
		case "#EXT-X-VERSION":
			if seenVersion {
				return nil, errors.New("hls: duplicate EXT-X-VERSION")
			}
			seenVersion = true
			if m.Version, err = parseCount(value, 1); err != nil {
				return nil, err
			}
		case "#EXT-X-INDEPENDENT-SEGMENTS":
			if seenIndep || strings.Contains(line, ":") {
				return nil, errors.New("hls: bad or duplicate EXT-X-INDEPENDENT-SEGMENTS")
			}
			seenIndep = true
			m.IndependentSegments = true
		case "#EXT-X-MEDIA":
			r, err := parseMedia(value)
			if err != nil {
				return nil, fmt.Errorf("hls: line %d: %w", i+1, err)
			}
			m.Media = append(m.Media, r)
		case "#EXT-X-STREAM-INF":
			v, err := parseStreamInf(value)
			if err != nil {
				return nil, fmt.Errorf("hls: line %d: %w", i+1, err)
			}
			pending = &v
		default:
			return nil, fmt.Errorf("hls: line %d: unsupported tag %q", i+1, tag)
		}
	}
	if pending != nil {
		return nil, errors.New("hls: EXT-X-STREAM-INF without a URI at the end")
	}
	return m, nil
}

func parseMedia(value string) (MediaRendition, error) {
	attrs, err := parseAttributes(value)
	if err != nil {
		return MediaRendition{}, err
	}
	var r MediaRendition
	for _, a := range attrs {
		var ok bool
		switch a.name {
		case "TYPE":
			r.Type, ok = a.enum()
			ok = ok && (r.Type == "AUDIO" || r.Type == "VIDEO" || r.Type == "SUBTITLES")
		case "GROUP-ID":
			r.GroupID, ok = a.str()
		case "NAME":
			r.Name, ok = a.str()
		case "LANGUAGE":
			r.Language, ok = a.str()
			ok = ok && r.Language != ""
		case "DEFAULT":
			r.Default, ok = a.yesNo()
		case "AUTOSELECT":
			r.AutoSelect, ok = a.yesNo()
		case "CHANNELS":
			r.Channels, ok = a.str()
			ok = ok && r.Channels != ""
		case "URI":
			r.URI, ok = a.str()
			ok = ok && r.URI != ""
		}
		if !ok {
			return r, fmt.Errorf("EXT-X-MEDIA: bad or unsupported attribute %s=%s", a.name, a.raw)
		}
	}
	// Marshal writes the attributes in one fixed order and always writes
	// DEFAULT and AUTOSELECT; accept only that canonical form.
	if r.Type == "" || r.GroupID == "" || r.Name == "" || !attrs.has("DEFAULT") || !attrs.has("AUTOSELECT") {
		return r, errors.New("EXT-X-MEDIA: TYPE, GROUP-ID, NAME, DEFAULT and AUTOSELECT are required")
	}
	if !attrs.inOrder("TYPE", "GROUP-ID", "NAME", "LANGUAGE", "DEFAULT", "AUTOSELECT", "CHANNELS", "URI") {
		return r, errors.New("EXT-X-MEDIA: attributes out of order")
	}
	return r, nil
}

func parseStreamInf(value string) (Variant, error) {
	attrs, err := parseAttributes(value)
	if err != nil {
		return Variant{}, err
	}
	var v Variant
	for _, a := range attrs {
		ok := !a.quotedVal
		switch a.name {
		case "BANDWIDTH":
			n, err := parseCount(a.raw, 1)
			v.Bandwidth, ok = int64(n), ok && err == nil
		case "AVERAGE-BANDWIDTH":
			n, err := parseCount(a.raw, 1)
			v.AverageBandwidth, ok = int64(n), ok && err == nil
		case "RESOLUTION":
			ws, hs, found := strings.Cut(a.raw, "x")
			w, err1 := parseCount(ws, 1)
			h, err2 := parseCount(hs, 1)
			v.Width, v.Height, ok = w, h, ok && found && err1 == nil && err2 == nil
		case "FRAME-RATE":
			f, err := strconv.ParseFloat(a.raw, 64)
			ok = ok && err == nil && f > 0 && f <= 1000 && strconv.FormatFloat(roundRate(f), 'f', 3, 64) == a.raw
			v.FrameRate = roundRate(f)
		case "CODECS":
			v.Codecs, ok = a.str()
			ok = ok && v.Codecs != ""
		case "AUDIO":
			v.Audio, ok = a.str()
			ok = ok && v.Audio != ""
		default:
			ok = false
		}
		if !ok {
			return v, fmt.Errorf("EXT-X-STREAM-INF: bad or unsupported attribute %s=%s", a.name, a.raw)
		}
	}
	if v.Bandwidth == 0 {
		return v, errors.New("EXT-X-STREAM-INF: no BANDWIDTH")
	}
	if !attrs.inOrder("BANDWIDTH", "AVERAGE-BANDWIDTH", "RESOLUTION", "CODECS", "FRAME-RATE", "AUDIO") {
		return v, errors.New("EXT-X-STREAM-INF: attributes out of order")
	}
	return v, nil
}

func roundRate(f float64) float64 { return math.Round(f*1000) / 1000 }

type attribute struct {
	name      string
	raw       string // the value as written, quotes removed for quoted strings
	quotedVal bool
}

type attributes []attribute

func (as attributes) quoted(name string) (string, bool) {
	for _, a := range as {
		if a.name == name {
			return a.str()
		}
	}
	return "", false
}

func (as attributes) has(name string) bool {
	for _, a := range as {
		if a.name == name {
			return true
		}
	}
	return false
}

// inOrder reports whether the attributes appear in the given order (each at
// most once; duplicates are rejected by parseAttributes).
func (as attributes) inOrder(order ...string) bool {
	pos := 0
	for _, a := range as {
		for pos < len(order) && order[pos] != a.name {
			pos++
		}
		if pos == len(order) {
			return false
		}
		pos++
	}
	return true
}

func (a attribute) str() (string, bool)  { return a.raw, a.quotedVal }
func (a attribute) enum() (string, bool) { return a.raw, !a.quotedVal && a.raw != "" }
func (a attribute) yesNo() (bool, bool) {
	if a.quotedVal {
		return false, false
	}
	switch a.raw {
	case "YES":
		return true, true
	case "NO":
		return false, true
	}
	return false, false
}

// parseAttributes parses an RFC 8216 attribute list: NAME=value pairs
// separated by commas, values either quoted strings (no quotes or line
// breaks inside) or unquoted tokens without commas.
func parseAttributes(s string) (attributes, error) {
	var as attributes
	seen := map[string]bool{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("hls: attribute list %q: want NAME=value", s)
		}
		name := s[:eq]
		for _, c := range name {
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return nil, fmt.Errorf("hls: attribute name %q", name)
			}
		}
		if seen[name] {
			return nil, fmt.Errorf("hls: duplicate attribute %s", name)
		}
		seen[name] = true
		s = s[eq+1:]
		a := attribute{name: name}
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("hls: attribute %s: unterminated quoted string", name)
			}
			a.raw, a.quotedVal = s[1:1+end], true
			s = s[end+2:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			a.raw = s[:end]
			if a.raw == "" || strings.ContainsAny(a.raw, `"`) {
				return nil, fmt.Errorf("hls: attribute %s: bad value %q", name, a.raw)
			}
			s = s[end:]
		}
		as = append(as, a)
		if s == "" {
			break
		}
		if s[0] != ',' || len(s) == 1 {
			return nil, fmt.Errorf("hls: attribute list: want a comma after %s", name)
		}
		s = s[1:]
	}
	return as, nil
}

// playlistLines splits a playlist into lines, checking the header, the
// encoding (UTF-8 without control characters) and dropping blank lines.
func playlistLines(data []byte) ([]string, error) {
	if len(data) > 4<<20 {
		return nil, errors.New("hls: playlist larger than 4 MiB")
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		for _, c := range line {
			if c < 0x20 || c == 0x7f || c == '\uFFFD' {
				return nil, fmt.Errorf("hls: control character or invalid UTF-8 in line %q", line)
			}
		}
		if line != strings.TrimSpace(line) {
			return nil, fmt.Errorf("hls: leading or trailing space in line %q", line)
		}
		if strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "#EXT") {
			continue // a comment
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	if len(lines) == 0 || lines[0] != "#EXTM3U" {
		return nil, errors.New("hls: missing #EXTM3U header")
	}
	return lines, nil
}

func parseCount(s string, min int) (int, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("hls: bad number %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || strings.ContainsAny(s, "+-") {
		return 0, fmt.Errorf("hls: bad number %q", s)
	}
	return n, nil
}

// parseSeconds parses a decimal EXTINF duration with at most 6 decimals.
func parseSeconds(s string) (time.Duration, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 6 || len(frac) > 6 || (len(whole) > 1 && whole[0] == '0') {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	if strings.Contains(s, ".") && frac == "" {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad duration %q", s)
		}
	}
	w, _ := strconv.Atoi(whole)
	f := 0
	if frac != "" {
		f, _ = strconv.Atoi(frac + strings.Repeat("0", 6-len(frac)))
	}
	return time.Duration(w)*time.Second + time.Duration(f)*time.Microsecond, nil
}

// formatSeconds writes d (microsecond precision) with 6 decimals, as
// FFmpeg's hls muxer does.
func formatSeconds(d time.Duration) string {
	us := d / time.Microsecond
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

func checkURI(uri string) error {
	if uri == "" || strings.HasPrefix(uri, "#") || strings.ContainsAny(uri, "\r\n") ||
		uri != strings.TrimSpace(uri) || strings.ContainsFunc(uri, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\uFFFD' }) {
		return fmt.Errorf("hls: bad URI %q", uri)
	}
	return nil
}

func checkQuoted(s string) error {
	if strings.ContainsAny(s, "\"\r\n") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\uFFFD' }) {
		return fmt.Errorf("hls: %q cannot be written as a quoted string", s)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// ResolveURI returns the slash-separated path a playlist URI names relative
// to the playlist's own path within the out dir, or an error when it leaves
// the out dir or is absolute (an URL, a rooted path). Published playlists
// only ever hold such relative names.
func ResolveURI(playlistPath, uri string) (string, error) {
	if strings.Contains(uri, ":") || strings.HasPrefix(uri, "/") || strings.Contains(uri, `\`) || strings.ContainsAny(uri, "?#") {
		return "", fmt.Errorf("hls: URI %q is not a relative path", uri)
	}
	p := path.Join(path.Dir(playlistPath), uri)
	if p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("hls: URI %q leaves the out dir", uri)
	}
	return p, nil
}
