package main

import (
	"context"
	"io"

	"github.com/shopclip/shopclip/transcode/ffmpeg"
)

// runTranscode is `shopclip transcode --in FILE --out DIR`: the transcode
// engine on local files, with no services. It writes DIR/master.m3u8 and the
// rest of the HLS ladder, and prints the JSON report on stdout; on unusable
// input it prints {"error":{"code":…,"message":…}} and exits non-zero. It is
// also the child process that transcode.Runner starts for every job (with
// rlimit and --events-fd flags), so the two can never drift apart.
func runTranscode(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return ffmpeg.ChildMain(ctx, args, stdout, stderr)
}
