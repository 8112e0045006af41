package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/shopclip/shopclip/transcode/ffmpeg"
)

// runShare is `shopclip share --in CLIP.mp4 --spec SPEC.json --out
// SHARE.mp4`: a share render (product cards burned into the clip's MP4) of
// local files with no services. The overlay images are looked up in SPEC's
// directory. It prints the JSON report (transcode.ShareReport), or
// {"error":{…}} and a non-zero exit. It is the --share mode of `shopclip
// transcode`, the child that transcode.Runner.Share starts, run in this
// process.
func runShare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("share", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "the clip's MP4 `file`")
	spec := fs.String("spec", "", "the transcode.ShareSpec JSON `file`; overlay images are beside it")
	out := fs.String("out", "", "the MP4 `file` to write")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: shopclip share --in CLIP.mp4 --spec SPEC.json --out SHARE.mp4")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *in == "" || *spec == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	return ffmpeg.ChildMain(ctx, []string{"--in", *in, "--out", *out, "--share", *spec}, stdout, stderr)
}
