package shopclip

import "time"

// ClipStatus is where a clip is in the pipeline.
type ClipStatus string

// Clip statuses. A clip is uploaded, then processing while a worker transcodes
// it, then ready (playable) or failed (with an Error). Ready and failed are
// terminal.
const (
	ClipUploaded   ClipStatus = "uploaded"
	ClipProcessing ClipStatus = "processing"
	ClipReady      ClipStatus = "ready"
	ClipFailed     ClipStatus = "failed"
)

// Terminal reports whether no further transition is expected.
func (s ClipStatus) Terminal() bool { return s == ClipReady || s == ClipFailed }

// Clip is a creator's short video.
type Clip struct {
	ID        string     `json:"id"`
	CreatorID string     `json:"creator_id"`
	Title     string     `json:"title"`
	Status    ClipStatus `json:"status"`
	Progress  float64    `json:"progress"` // 0..1 while processing, 1 when ready
	Error     *Error     `json:"error,omitempty"`

	DurationMS int64       `json:"duration_ms,omitempty"`
	Width      int         `json:"width,omitempty"`  // as displayed, rotation applied
	Height     int         `json:"height,omitempty"` // as displayed, rotation applied
	Renditions []Rendition `json:"renditions,omitempty"`

	// OriginalKey is the blob key of the upload as received; OriginalSize its
	// size in bytes and OriginalSHA256 its hex digest.
	OriginalKey    string `json:"-"`
	OriginalSize   int64  `json:"-"`
	OriginalSHA256 string `json:"-"`

	// Generation names the published set of outputs: the blob prefix
	// OutputPrefix holds master.m3u8 and the rest. Both are empty until a
	// transcode publishes (or, while processing, starts publishing).
	Generation   string `json:"-"`
	OutputPrefix string `json:"-"`
	// HasMP4 and HasPoster say which optional outputs the generation holds.
	HasMP4    bool `json:"-"`
	HasPoster bool `json:"-"`

	// Attempts counts transcode attempts that were started.
	Attempts int `json:"-"`

	// AttemptID is the transcode attempt that owns the clip while it is
	// processing (see Store.StartClipAttempt).
	AttemptID string `json:"-"`

	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

// Rendition is one rung of a clip's HLS ladder.
type Rendition struct {
	Name      string `json:"name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bandwidth int64  `json:"bandwidth"` // peak bits per second, as in the master playlist
	Codecs    string `json:"codecs,omitempty"`
}

// Publication is what a finished transcode records on its clip.
type Publication struct {
	Generation   string
	OutputPrefix string
	DurationMS   int64
	Width        int
	Height       int
	Renditions   []Rendition
	HasMP4       bool
	HasPoster    bool
}

// MaxTitleLen bounds clip titles, in bytes.
const MaxTitleLen = 300

// ValidateTitle reports whether title is acceptable for a clip.
func ValidateTitle(title string) error {
	if len(title) > MaxTitleLen {
		return Errorf(EINVALID, "Title must be at most %d bytes.", MaxTitleLen)
	}
	return nil
}
