// Command shopclip runs the shoppable short-video pipeline.
//
//	shopclip up        the API and the workers in one process, embedded defaults
//	shopclip serve     the API alone (scale-out)
//	shopclip worker    the workers alone (scale-out)
//	shopclip account create|reset-password|disable|enable|invite|key …
//	shopclip upload FILE... [--server URL] [--key KEY] [--title T]
//	shopclip transcode --in FILE --out DIR
//	shopclip share --in CLIP.mp4 --spec SPEC.json --out SHARE.mp4
//	shopclip backup --out DIR [--data DIR]
//	shopclip restore --from DIR --data NEWDATA
//
// This package is the only place that wires components, reads configuration
// and owns signals.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `shopclip — shoppable short video, self-hosted.

Usage:
  shopclip up [--addr HOST:PORT] [--data DIR] [--config FILE]
        the API and the workers in one process with the embedded defaults
        (SQLite, a local blob directory, a redis-server child)
  shopclip serve [--addr HOST:PORT] [--config FILE]
        the API alone, for scale-out (needs SHOPCLIP_REDIS_URL)
  shopclip worker [--config FILE]
        the workers alone, for scale-out (needs SHOPCLIP_REDIS_URL)
  shopclip account create --role creator|brand|admin --name NAME [--email EMAIL --password-stdin]
        create an account and print its new API key
  shopclip account reset-password|disable|enable (--id ACCOUNT | --email EMAIL)
  shopclip account invite --role creator|brand|admin [--email EMAIL]
        print a one-time code to sign up with while sign-up is closed
  shopclip account key create|revoke|rotate --id ACCOUNT [--key KEY_ID]
        (every account command takes [--data DIR] [--config FILE])
  shopclip upload FILE... [--server URL] [--key KEY] [--title T] [--no-wait]
        upload clips (resumable: run it again after Ctrl-C or a dropped
        connection), wait until they are ready and print their watch URLs;
        the key also comes from SHOPCLIP_KEY, the server from SHOPCLIP_SERVER
  shopclip transcode --in FILE --out DIR
        transcode a local file to HLS with no services; prints a JSON report
  shopclip share --in CLIP.mp4 --spec SPEC.json --out SHARE.mp4
        burn the product cards of SPEC (PNGs beside it) into a clip's MP4;
        prints a JSON report
  shopclip backup --out DIR [--data DIR] [--config FILE]
        a consistent backup of the embedded default (SQLite database and blob
        directory, with a manifest of checksums), also while shopclip up runs
  shopclip restore --from DIR --data NEWDATA [--config FILE]
        restore a backup into a new, empty data directory, verifying every
        checksum; then shopclip up --data NEWDATA serves it
  shopclip version

Configuration: configs/shopclip.example.yaml documents every key; SHOPCLIP_*
environment variables override the file (SHOPCLIP_CONFIG names it).
`

// run dispatches a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "up", "serve", "worker":
		err = runServer(ctx, args[0], args[1:], stdout, stderr)
	case "account":
		err = runAccount(ctx, args[1:], stdin, stdout, stderr)
	case "upload":
		err = runUpload(ctx, args[1:], stdout, stderr)
	case "transcode":
		return runTranscode(ctx, args[1:], stdout, stderr)
	case "share":
		return runShare(ctx, args[1:], stdout, stderr)
	case "backup":
		err = runBackup(ctx, args[1:], stdout, stderr)
	case "restore":
		err = runRestore(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "shopclip", version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "shopclip: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		fmt.Fprintf(stderr, "shopclip: %v\n", err)
		return 1
	}
	return 0
}
