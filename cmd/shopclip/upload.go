package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/upload"
)

// runUpload is `shopclip upload FILE... [--server URL] [--key KEY] [--title
// T] [--no-wait]`: each file goes up through tus with a progress line, a cut
// upload resumes where the server stopped (in this run, or in the next one
// after Ctrl-C: the upload's URL is kept in the user's cache directory),
// and then the clip is followed until it is ready and its watch URL
// printed.
func runUpload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", cmpOr(os.Getenv("SHOPCLIP_SERVER"), "http://127.0.0.1:8080"), "the shopclip server's URL ($SHOPCLIP_SERVER)")
	key := fs.String("key", os.Getenv("SHOPCLIP_KEY"), "a creator's API key ($SHOPCLIP_KEY)")
	title := fs.String("title", "", "the clip's title (one file only); the file's name when left out")
	noWait := fs.Bool("no-wait", false, "do not wait for the clips to be ready")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(files) == 0:
		return errors.New("upload: name the files to upload: shopclip upload FILE... [--server URL] [--key KEY] [--title T]")
	case *key == "":
		return errors.New("upload: give a creator's API key with --key or SHOPCLIP_KEY")
	case *title != "" && len(files) > 1:
		return errors.New("upload: --title names one clip; upload the files one by one to title each")
	}
	c := &upload.Client{Server: strings.TrimSuffix(*server, "/"), Key: *key, HTTP: &http.Client{}}
	var ids []string
	for _, f := range files {
		id, err := uploadFile(ctx, c, f, *title, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		ids = append(ids, id)
	}
	for i, id := range ids {
		if *noWait {
			fmt.Fprintf(stdout, "%s\t%s\n", id, upload.ClipURL(c.Server, id))
			continue
		}
		if err := followClip(ctx, c, id, files[i], stdout, stderr); err != nil {
			return fmt.Errorf("%s: %w", files[i], err)
		}
	}
	return nil
}

// parseInterleaved parses flags that may come after the file names too
// (`shopclip upload a.mov --title x`), returning the names.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return names, nil
		}
		names = append(names, args[0])
		args = args[1:]
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// uploadFile sends one file, resuming an upload of it an earlier run left,
// and returns its clip.
func uploadFile(ctx context.Context, c *upload.Client, path, title string, stderr io.Writer) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	name := filepath.Base(path)
	resume := resumeFile(c.Server, path, st)
	loc := ""
	if b, err := os.ReadFile(resume); err == nil {
		loc = strings.TrimSpace(string(b))
		if _, _, err := c.Offset(ctx, loc); err != nil { // expired, cancelled, another key's
			loc = ""
		}
	}
	if loc == "" {
		meta := map[string]string{upload.MetaFilename: name, upload.MetaFiletype: videoType(name)}
		if title != "" {
			meta[upload.MetaTitle] = title
		}
		if loc, err = c.Create(ctx, st.Size(), meta); err != nil {
			return "", err
		}
		if err := os.MkdirAll(filepath.Dir(resume), 0o700); err == nil {
			os.WriteFile(resume, []byte(loc+"\n"), 0o600)
		}
	} else {
		fmt.Fprintf(stderr, "%s: resuming an earlier upload\n", name)
	}
	bar := newProgressBar(stderr, name)
	c.Progress = bar.update
	id, err := c.Send(ctx, loc, f, st.Size())
	bar.done(err)
	if err != nil {
		var refused *upload.Error
		if errors.As(err, &refused) && !refused.Temporary() {
			os.Remove(resume) // the server refused the file: nothing to resume
		} else {
			err = fmt.Errorf("%w (run the same command again to resume from where it stopped)", err)
		}
		return "", err
	}
	os.Remove(resume)
	return id, nil
}

// resumeFile is where the URL of an upload of the file at path to server
// is kept, for the next run: named by the server, the file's absolute path,
// size and modification time (a changed file starts over).
func resumeFile(server, path string, st os.FileInfo) string {
	abs, _ := filepath.Abs(path)
	h := sha256.Sum256([]byte(strings.Join([]string{server, abs, strconv.FormatInt(st.Size(), 10), st.ModTime().UTC().Format(time.RFC3339Nano)}, "\x00")))
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "shopclip", "uploads", hex.EncodeToString(h[:16]))
}

// videoType is the media type of a video file by its extension, for the
// upload's metadata.
func videoType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".mov":
		return "video/quicktime"
	case ".mkv":
		return "video/x-matroska"
	case ".avi":
		return "video/x-msvideo"
	case ".ts", ".mts", ".m2ts":
		return "video/mp2t"
	case ".mpg", ".mpeg", ".vob":
		return "video/mpeg"
	}
	if t := mime.TypeByExtension(filepath.Ext(name)); strings.HasPrefix(t, "video/") {
		return t
	}
	return "application/octet-stream"
}

// followClip waits for a clip to be ready, telling how it goes, and prints
// its watch URL.
func followClip(ctx context.Context, c *upload.Client, id, file string, stdout, stderr io.Writer) error {
	last := ""
	for {
		clip, err := getClip(ctx, c, id)
		if err != nil {
			return err
		}
		state := string(clip.Status)
		if clip.Status == shopclip.ClipProcessing {
			state = fmt.Sprintf("processing %d%%", int(clip.Progress*100))
		}
		if state != last {
			fmt.Fprintf(stderr, "%s: %s\n", filepath.Base(file), state)
			last = state
		}
		switch clip.Status {
		case shopclip.ClipReady:
			fmt.Fprintf(stdout, "%s\t%s\n", id, upload.ClipURL(c.Server, id))
			return nil
		case shopclip.ClipFailed:
			if clip.Error != nil {
				return fmt.Errorf("processing failed: %s", clip.Error.Message)
			}
			return errors.New("processing failed")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting (the clip %s goes on processing): %w", id, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

func getClip(ctx context.Context, c *upload.Client, id string) (*shopclip.Clip, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Server+"/v1/clips/"+id, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("GET /v1/clips/%s: %d %s", id, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var clip shopclip.Clip
	if err := json.NewDecoder(resp.Body).Decode(&clip); err != nil {
		return nil, err
	}
	return &clip, nil
}

// progressBar draws an upload's progress on one line of a terminal (or a
// line every 10% elsewhere): bytes, speed and time left.
type progressBar struct {
	w           io.Writer
	name        string
	tty         bool
	mu          sync.Mutex
	start       time.Time
	from        int64 // where this run started (a resumed upload's offset)
	drawn       time.Time
	lastTenth   int64
	sent, total int64
}

func newProgressBar(w io.Writer, name string) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, name: name, tty: tty, from: -1, lastTenth: -1}
}

func (p *progressBar) update(sent, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.from < 0 {
		p.from, p.start = sent, now
	}
	p.sent, p.total = sent, total
	if p.tty {
		if now.Sub(p.drawn) < 200*time.Millisecond && sent < total {
			return
		}
		p.drawn = now
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(now))
		return
	}
	if tenth := sent * 10 / max(total, 1); tenth != p.lastTenth {
		p.lastTenth = tenth
		fmt.Fprintln(p.w, p.line(now))
	}
}

// line is "name  45%  12.3 MiB / 27.1 MiB  3.2 MiB/s  5s left".
func (p *progressBar) line(now time.Time) string {
	pct := 100 * p.sent / max(p.total, 1)
	s := fmt.Sprintf("%s  %3d%%  %s / %s", p.name, pct, mib(p.sent), mib(p.total))
	if secs := now.Sub(p.start).Seconds(); secs > 0.2 && p.sent > p.from {
		rate := float64(p.sent-p.from) / secs
		s += fmt.Sprintf("  %s/s", mib(int64(rate)))
		if p.sent < p.total {
			s += fmt.Sprintf("  %s left", time.Duration(float64(p.total-p.sent)/rate*float64(time.Second)).Round(time.Second))
		}
	}
	return s
}

func (p *progressBar) done(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintln(p.w)
	}
	if err != nil {
		fmt.Fprintf(p.w, "%s: stopped at %s of %s\n", p.name, mib(p.sent), mib(p.total))
	}
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
