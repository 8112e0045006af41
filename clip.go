package shopclip

import (
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

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

	DurationMS int64       `json:"duration_ms"`
	Width      int         `json:"width"`  // as displayed, rotation applied; 0 until known
	Height     int         `json:"height"` // as displayed, rotation applied; 0 until known
	Renditions []Rendition `json:"renditions"`

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
	// HasMP4, HasPoster and HasStoryboard say which optional outputs the
	// generation holds.
	HasMP4        bool `json:"-"`
	HasPoster     bool `json:"-"`
	HasStoryboard bool `json:"-"`
	// ShareKey is the blob key of the share MP4 with the pop-ups burned in,
	// re-rendered when prices change; empty when there is none.
	ShareKey string `json:"-"`

	// Attempts counts transcode attempts that were started; Crashes those
	// that ended with the transcoder crashing.
	Attempts int `json:"-"`
	Crashes  int `json:"-"`

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
	Generation    string
	OutputPrefix  string
	DurationMS    int64
	Width         int
	Height        int
	Renditions    []Rendition
	HasMP4        bool
	HasPoster     bool
	HasStoryboard bool
}

// MaxTitleLen bounds clip titles, in bytes.
const MaxTitleLen = 300

// ValidateTitle reports whether title is acceptable for a clip: at most
// MaxTitleLen bytes of printable UTF-8.
func ValidateTitle(title string) error {
	if len(title) > MaxTitleLen {
		return Errorf(EINVALID, "The title must be at most %d bytes.", MaxTitleLen)
	} else if !utf8.ValidString(title) || hasControl(title) {
		return Errorf(EINVALID, "The title must be printable UTF-8 text (no control characters).")
	}
	return nil
}

// TitleFromFilename makes a clip title from an uploaded file's name: the
// name without its extension, control characters dropped, cut to
// MaxTitleLen at a character boundary. It never fails.
func TitleFromFilename(name string) string {
	name = strings.TrimSuffix(name, path.Ext(name))
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		if hasControl(string(r)) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > MaxTitleLen {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
