package blob

import (
	"path"
	"strings"
)

// contentTypes maps the lower-case extensions shopclip writes to the media
// types players and browsers expect for them.
var contentTypes = map[string]string{
	".m3u8": "application/vnd.apple.mpegurl",
	".m4s":  "video/iso.segment",
	".mp4":  "video/mp4",
	".ts":   "video/mp2t",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".webp": "image/webp",
	".vtt":  "text/vtt; charset=utf-8",
	".json": "application/json",
}

// ContentTypeByKey returns the media type of the object under key, judged by
// its extension (case-insensitively): HLS playlists and segments, MP4,
// images, WebVTT and JSON. Any other key is application/octet-stream.
// Backends that keep no content type (blob/local) report this one, and
// backends that do (blob/s3) store it when PutOptions.ContentType is empty.
func ContentTypeByKey(key string) string {
	if ct, ok := contentTypes[strings.ToLower(path.Ext(key))]; ok {
		return ct
	}
	return "application/octet-stream"
}
