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
	// EventSegment says a file (Path, relative to the out dir) of
	// Rendition is complete and will not change (reserved: the engine does
	// not emit it yet).
	EventSegment = "segment"
)

// Event is a notification from a running transcode: progress, probe result,
// a finished segment. The child process sends them as JSON lines over an
// extra pipe; Job.OnEvent receives them.
type Event struct {
	Kind       string  `json:"kind"`
	Progress   float64 `json:"progress,omitempty"`
	OutTimeMS  int64   `json:"out_time_ms,omitempty"`
	DurationMS int64   `json:"duration_ms,omitempty"`
	Rendition  string  `json:"rendition,omitempty"`
	Path       string  `json:"path,omitempty"`
	Probe      *Probe  `json:"probe,omitempty"`
}
