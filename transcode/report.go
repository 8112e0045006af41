package transcode

import (
	"github.com/shopclip/shopclip"
)

// Report is what one transcode made, printed as JSON by the child process
// (and by `shopclip transcode`). On failure only Error is certain to be set;
// Probe and Ladder are there when the failure came after them.
type Report struct {
	// Input is the path of the source file.
	Input string `json:"input,omitempty"`
	// Probe is the summary of the source; Ladder the plan that was followed.
	Probe  *Probe  `json:"probe,omitempty"`
	Ladder *Ladder `json:"ladder,omitempty"`

	// DurationMS is the duration of the made clip; Width and Height the
	// source as displayed (rotation applied).
	DurationMS int64 `json:"duration_ms,omitempty"`
	Width      int   `json:"width,omitempty"`
	Height     int   `json:"height,omitempty"`
	// Renditions are the video renditions as in the master playlist, largest
	// first.
	Renditions []shopclip.Rendition `json:"renditions,omitempty"`
	// Master and Poster are relative paths in the out dir ("master.m3u8",
	// "poster.jpg").
	Master string `json:"master,omitempty"`
	Poster string `json:"poster,omitempty"`
	// MP4 is the progressive MP4 ("clip.mp4") and Storyboard the WebVTT
	// index of the thumbnail sprite ("storyboard.vtt", which names
	// "storyboard.jpg"), when made.
	MP4        string `json:"mp4,omitempty"`
	Storyboard string `json:"storyboard,omitempty"`
	// Outputs lists every file made, relative to the out dir, sorted, with
	// master.m3u8 last (the upload order).
	Outputs []Output `json:"outputs,omitempty"`
	// Frames counts the frames encoded per rendition; DecodeErrors the
	// packets the video decoder rejected (a few are tolerated).
	Frames       map[string]int64 `json:"frames,omitempty"`
	DecodeErrors int              `json:"decode_errors,omitempty"`
	// Timings are the wall-clock milliseconds spent per stage ("probe",
	// "transcode", "poster", "playlists", "mp4", "total").
	Timings map[string]int64 `json:"timings_ms,omitempty"`

	// Error is set when the transcode failed.
	Error *shopclip.Error `json:"error,omitempty"`
}

// Output is one file the transcode made.
type Output struct {
	Path  string `json:"path"` // relative to the out dir, slash-separated
	Bytes int64  `json:"bytes"`
}

// TotalBytes returns the size of all outputs.
func (r *Report) TotalBytes() int64 {
	var n int64
	for _, o := range r.Outputs {
		n += o.Bytes
	}
	return n
}

// Event kinds.
const (
	// EventProbe is sent once the input is probed and planned: Probe and
	// DurationMS are set. Runner uses it to size the wall-clock deadline.
	EventProbe = "probe"
	// EventProgress reports OutTimeMS, the media time encoded so far, and
	// Progress (0..1) when the duration is known (0 until the end when it
	// is not). The last event has Progress 1.
	EventProgress = "progress"
	// EventFile says the file at Path (slash-separated, relative to the out
	// dir) of Rendition ("720p", "audio") is complete and consistent, to be
	// uploaded now. It is sent for each init segment ("720p/init.mp4"),
	// before the rendition's first media segment; for each media segment
	// ("720p/seg_00003.m4s") as soon as the muxer has closed it (it never
	// changes after); and for each media playlist ("720p/index.m3u8") right
	// after it was rewritten to list a new segment. A rendition's events
	// come in that order, so a playlist's event always comes after the
	// events of every file it lists: uploading files in event order never
	// publishes a playlist before its segments.
	//
	// While the transcode runs, media playlists are EVENT playlists
	// (EXT-X-PLAYLIST-TYPE:EVENT, no EXT-X-ENDLIST) listing only announced
	// segments; they are replaced atomically (a temporary file beside them,
	// renamed), so they may be read at any moment. When the ladder is done,
	// the final VOD playlists and the measured master replace them the same
	// way; those final versions are not announced: Report.Outputs lists
	// them, master last. A file announced more than once (a playlist) is to
	// be uploaded again.
	//
	// Events reach the parent through a pipe, so a playlist read after its
	// event may already list a segment whose own event is still on its way:
	// the segment is complete on disk, but a parent that must never publish
	// a playlist ahead of its segments should read the playlist as soon as
	// its event arrives, or trim it to the segments it has uploaded.
	EventFile = "file"
	// EventPlayable is sent once, with Path "master.m3u8", when every video
	// rendition and the audio rendition (if any) has announced its init
	// segment, first media segment and playlist: the provisional master
	// playlist, written atomically just before, lists every variant in its
	// final order with its real CODECS, RESOLUTION, FRAME-RATE and AUDIO
	// group and a BANDWIDTH that is an upper bound of the final one
	// (Ladder.BandwidthBound). Uploading it makes the clip playable while
	// the rest of the ladder is being made; the final, measured master
	// replaces it at the end. A clip whose audio track yields no sound at
	// all gets no EventPlayable: it is published complete, from the Report.
	EventPlayable = "playable"
)

// Event is a notification from a running transcode: its probe, its
// progress, a file ready to upload, the stream becoming playable. The child
// process sends them as JSON lines over an extra pipe, in the order the
// engine made them; Job.OnEvent receives them in that order.
//
// A typical sequence for a clip with three rungs and audio (the
// interleaving of renditions varies from run to run):
//
//	{"kind":"probe","duration_ms":30000,"probe":{…}}
//	{"kind":"file","rendition":"audio","path":"audio/init.mp4"}
//	{"kind":"file","rendition":"audio","path":"audio/seg_00000.m4s"}
//	{"kind":"file","rendition":"audio","path":"audio/index.m3u8"}
//	{"kind":"progress","progress":0.04,"out_time_ms":1200,"duration_ms":30000}
//	{"kind":"file","rendition":"480p","path":"480p/init.mp4"}
//	{"kind":"file","rendition":"480p","path":"480p/seg_00000.m4s"}
//	{"kind":"file","rendition":"480p","path":"480p/index.m3u8"}
//	… the same for 720p, then 1080p …
//	{"kind":"file","rendition":"1080p","path":"1080p/index.m3u8"}
//	{"kind":"playable","path":"master.m3u8"}
//	{"kind":"file","rendition":"audio","path":"audio/seg_00001.m4s"}
//	{"kind":"file","rendition":"audio","path":"audio/index.m3u8"}
//	…
//	{"kind":"file","rendition":"1080p","path":"1080p/seg_00015.m4s"}
//	{"kind":"file","rendition":"1080p","path":"1080p/index.m3u8"}
//	{"kind":"progress","progress":1,"out_time_ms":30000,"duration_ms":30000}
type Event struct {
	Kind       string  `json:"kind"`
	Progress   float64 `json:"progress,omitempty"`
	OutTimeMS  int64   `json:"out_time_ms,omitempty"`
	DurationMS int64   `json:"duration_ms,omitempty"`
	Rendition  string  `json:"rendition,omitempty"`
	Path       string  `json:"path,omitempty"`
	Probe      *Probe  `json:"probe,omitempty"`
}
