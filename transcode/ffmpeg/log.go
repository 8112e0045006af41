package ffmpeg

import "C"

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// libav messages reach slog through a bounded C callback, at warning level
// and above, rate-limited: at most logBurst messages per second; the rest
// are counted and reported once the second is over.
const logBurst = 20

var avlog struct {
	once    sync.Once
	mu      sync.Mutex
	logger  *slog.Logger
	window  time.Time
	count   int
	dropped int
}

// SetLogger routes FFmpeg's log messages (warnings and errors) to l. It is
// process-wide, like FFmpeg's log callback; the last call wins. Transcode
// and ChildMain call it with their logger.
func SetLogger(l *slog.Logger) {
	avlog.once.Do(installLogCallback)
	avlog.mu.Lock()
	avlog.logger = l
	avlog.mu.Unlock()
}

//export shopclipGoLog
func shopclipGoLog(level C.int, line *C.char) {
	msg := strings.TrimSpace(C.GoString(line))
	if msg == "" {
		return
	}
	avlog.mu.Lock()
	l := avlog.logger
	now := time.Now()
	var dropped int
	if now.Sub(avlog.window) >= time.Second {
		dropped = avlog.dropped
		avlog.window, avlog.count, avlog.dropped = now, 0, 0
	}
	avlog.count++
	over := avlog.count > logBurst
	if over {
		avlog.dropped++
	}
	avlog.mu.Unlock()
	if l == nil {
		return
	}
	if dropped > 0 {
		l.Warn("ffmpeg: log messages suppressed", "count", dropped)
	}
	if over {
		return
	}
	lvl := slog.LevelWarn
	if level <= 16 { // AV_LOG_ERROR and worse
		lvl = slog.LevelError
	}
	l.Log(context.Background(), lvl, "ffmpeg: "+msg)
}
