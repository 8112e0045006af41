package transcode

import (
	"slices"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
)

// CheckProbe reports whether a probed input fits the limits, as a
// *shopclip.Error with a media code and a message a person understands, or
// nil. The checks run in a fixed order, so an input that breaks several
// limits always gets the same reason: streams, video presence, video codec,
// picture size, frame rate, duration, audio codec, audio format.
func CheckProbe(p *Probe, l InputLimits) error {
	l = l.WithDefaults()
	if p == nil {
		return shopclip.Errorf(shopclip.EMEDIAUNREADABLE, "The file could not be read as a video.")
	}
	media := 0
	for _, s := range p.Streams {
		if s.Kind != KindData {
			media++
		}
	}
	if media > l.MaxStreams {
		return shopclip.Errorf(shopclip.EMEDIASTREAMS,
			"The file has %d audio, video and subtitle tracks; at most %d are accepted.", media, l.MaxStreams)
	}
	v := p.Video
	if v == nil {
		if p.Audio != nil || hasKind(p.Streams, KindAudio) {
			return shopclip.Errorf(shopclip.EMEDIANOVIDEO, "The file has only sound and no picture. Upload a video.")
		}
		return shopclip.Errorf(shopclip.EMEDIANOVIDEO, "The file has no video track.")
	}
	if !slices.Contains(l.VideoCodecs, v.Codec) {
		return shopclip.Errorf(shopclip.EMEDIACODEC,
			"The video is encoded as %s, which is not supported. Use %s.", codecLabel(v.Codec), codecList(l.VideoCodecs))
	}
	if v.Width <= 0 || v.Height <= 0 {
		return shopclip.Errorf(shopclip.EMEDIAUNREADABLE, "The size of the video picture could not be determined; the file may be damaged.")
	}
	long, short := max(v.Width, v.Height), min(v.Width, v.Height)
	if short < l.MinSide {
		return shopclip.Errorf(shopclip.EMEDIADIMENSIONS,
			"The video is %d×%d pixels; each side must be at least %d pixels.", v.Width, v.Height, l.MinSide)
	}
	codedLong, codedShort := max(v.CodedWidth, v.CodedHeight), min(v.CodedWidth, v.CodedHeight)
	if long > l.MaxLongSide || short > l.MaxShortSide || codedLong > l.MaxLongSide || codedShort > l.MaxShortSide {
		return shopclip.Errorf(shopclip.EMEDIADIMENSIONS,
			"The video is %d×%d pixels; the largest accepted size is %d×%d (either way up).",
			v.Width, v.Height, l.MaxLongSide, l.MaxShortSide)
	}
	if v.Width*v.Height > l.MaxPixels || v.CodedWidth*v.CodedHeight > l.MaxPixels {
		return shopclip.Errorf(shopclip.EMEDIADIMENSIONS,
			"The video is %d×%d pixels; at most %d pixels per picture are accepted.", v.Width, v.Height, l.MaxPixels)
	}
	if fps := v.FrameRate(); fps > l.MaxFrameRate {
		return shopclip.Errorf(shopclip.EMEDIAFRAMERATE,
			"The video runs at %.0f frames per second; at most %g are accepted.", fps, l.MaxFrameRate)
	}
	if d := time.Duration(p.DurationMS) * time.Millisecond; d > l.MaxDuration {
		return shopclip.Errorf(shopclip.EMEDIADURATION,
			"The video is %s long; the longest accepted is %s.", humanDuration(d), humanDuration(l.MaxDuration))
	}
	if d := time.Duration(v.DurationMS) * time.Millisecond; d > l.MaxDuration {
		return shopclip.Errorf(shopclip.EMEDIADURATION,
			"The video track is %s long; the longest accepted is %s.", humanDuration(d), humanDuration(l.MaxDuration))
	}
	if a := p.Audio; a != nil {
		if !slices.Contains(l.AudioCodecs, a.Codec) {
			return shopclip.Errorf(shopclip.EMEDIACODEC,
				"The sound is encoded as %s, which is not supported. Use %s.", codecLabel(a.Codec), codecList(l.AudioCodecs))
		}
		if a.Channels < 1 || a.Channels > l.MaxChannels {
			return shopclip.Errorf(shopclip.EMEDIAAUDIO,
				"The sound has %d channels; between 1 and %d are accepted.", a.Channels, l.MaxChannels)
		}
		if a.SampleRate < 8000 || a.SampleRate > l.MaxSampleRate {
			return shopclip.Errorf(shopclip.EMEDIAAUDIO,
				"The sound is sampled at %d Hz; between 8000 and %d Hz are accepted.", a.SampleRate, l.MaxSampleRate)
		}
	}
	return nil
}

func hasKind(ss []StreamInfo, kind string) bool {
	return slices.ContainsFunc(ss, func(s StreamInfo) bool { return s.Kind == kind })
}

// codecLabels are the names people know codecs by, for FFmpeg's codec
// names; codecs missing here are shown by FFmpeg's name.
var codecLabels = map[string]string{
	"h264": "H.264", "hevc": "HEVC", "av1": "AV1", "vp8": "VP8", "vp9": "VP9",
	"mpeg4": "MPEG-4 Part 2", "h263": "H.263",
	"prores": "ProRes", "dnxhd": "DNxHD/DNxHR", "mpeg2video": "MPEG-2", "mpeg1video": "MPEG-1", "mjpeg": "Motion JPEG",
	"aac": "AAC", "mp3": "MP3", "mp2": "MP2", "ac3": "AC-3", "eac3": "E-AC-3", "alac": "ALAC", "flac": "FLAC",
	"opus": "Opus", "vorbis": "Vorbis",
	"pcm_s16le": "16-bit PCM", "pcm_s16be": "16-bit PCM", "pcm_s24le": "24-bit PCM", "pcm_s24be": "24-bit PCM",
}

func codecLabel(name string) string {
	if name == "" {
		return "an unknown codec"
	}
	if l, ok := codecLabels[name]; ok {
		return l
	}
	return name
}

// codecList names the codecs for people, each label once ("16-bit PCM"
// stands for both byte orders): "H.264, HEVC or VP9".
func codecList(names []string) string {
	var labels []string
	for _, n := range names {
		if l := codecLabel(n); !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	if len(labels) <= 1 {
		return strings.Join(labels, "")
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " or " + labels[len(labels)-1]
}

// humanDuration formats d for people: "2m30s", "45s", "1h20m".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		d = d.Round(time.Minute)
		s := d.String() // "1h20m0s"
		return strings.TrimSuffix(s, "0s")
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}
