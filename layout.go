package shopclip

import (
	"path"
	"strings"
)

// Blob layout. Originals are private; each transcode attempt writes under its
// own generation prefix, which becomes public only when the clip's pointer is
// flipped to it (Store.PublishClip); overlays are small objects replaced whole.

// OriginalKey is where a clip's upload is kept.
func OriginalKey(clipID string) string { return "originals/" + clipID }

// ClipPrefix holds everything derived from a clip.
func ClipPrefix(clipID string) string { return "clips/" + clipID + "/" }

// GenerationPrefix holds one transcode attempt's outputs: master.m3u8 and the
// rest of the layout described in package transcode.
func GenerationPrefix(clipID, generation string) string {
	return ClipPrefix(clipID) + generation + "/"
}

// OverlaysKey is where a clip's pop-up timeline is kept, as "json" or "vtt".
func OverlaysKey(clipID, ext string) string { return ClipPrefix(clipID) + "overlays." + ext }

// ShareKey is where a version of a clip's share MP4 (its pop-ups burned in)
// is kept; version names the rendered content, so each new render has a new
// key and URLs to an old one stay immutable until it is deleted.
func ShareKey(clipID, version string) string {
	return ClipPrefix(clipID) + "share-" + version + ".mp4"
}

// IsShareKey reports whether key has the form of one of the clip's share
// MP4 keys (ShareKey with a lowercase hex version).
func IsShareKey(clipID, key string) bool {
	v, ok := strings.CutPrefix(key, ClipPrefix(clipID)+"share-")
	if !ok {
		return false
	}
	v, ok = strings.CutSuffix(v, ".mp4")
	if !ok || v == "" || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Well-known output names inside a generation prefix.
const (
	MasterPlaylist = "master.m3u8"
	PosterFile     = "poster.jpg"
	MP4File        = "clip.mp4"
	StoryboardFile = "storyboard.vtt" // WebVTT index of the storyboard sprite
)

// BuyPath is the storefront path of a tag's buy URL: it answers 302 to the
// product's store and counts the click.
func BuyPath(tagID string) string { return "/v1/buy/" + tagID }

// Playback is where a viewer plays a clip from: URL paths on the server
// (the storefront serves them, or redirects to presigned object URLs), empty
// for outputs the clip does not have.
type Playback struct {
	HLS        string // the master playlist
	MP4        string // the progressive MP4
	Poster     string
	Storyboard string // WebVTT thumbnails for scrubbing
	Share      string // the MP4 with the pop-ups burned in
}

// PlaybackPaths returns the paths of c's published (or publishing)
// generation; all empty before a transcode starts publishing.
func (c *Clip) PlaybackPaths() Playback {
	if c.Generation == "" {
		return Playback{}
	}
	base := "/v1/clips/" + c.ID + "/media/" + c.Generation + "/"
	p := Playback{HLS: base + MasterPlaylist}
	if c.HasMP4 {
		p.MP4 = base + MP4File
	}
	if c.HasPoster {
		p.Poster = base + PosterFile
	}
	if c.HasStoryboard {
		p.Storyboard = base + StoryboardFile
	}
	if c.ShareKey != "" {
		p.Share = "/v1/clips/" + c.ID + "/share/" + path.Base(c.ShareKey)
	}
	return p
}
