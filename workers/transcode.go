package workers

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/internal/logctx"
	"github.com/shopclip/shopclip/transcode"
)

// Transcoder turns one local upload into the output layout of package
// transcode in OutDir. It returns errors carrying shopclip media codes for
// unusable uploads (no retry helps), EMEDIACRASH when the transcoder crashed
// (a retry may help, a few may not), and other errors for transient failures.
type Transcoder interface {
	Transcode(ctx context.Context, job TranscodeJob) (*TranscodeResult, error)
}

// TranscodeJob is one transcode of a local file. The callbacks may be nil;
// they must not block.
type TranscodeJob struct {
	Input    string
	OutDir   string
	Progress func(p float64) // 0..1
	// File is called with each output file (relative to OutDir) that is
	// complete and may be published now, in dependency order: a playlist
	// after the segments it lists. When body is not nil it is the content
	// to publish (a playlist as it was when announced); otherwise the file
	// is read from OutDir.
	File func(rel string, body []byte)
	// Playable is called once, when the files announced so far make a
	// playable stream and OutDir's master playlist lists every variant.
	Playable func(Playable)
}

// TranscodeResult is what a transcode found and made.
type TranscodeResult struct {
	DurationMS int64
	Width      int // displayed
	Height     int // displayed
	Renditions []shopclip.Rendition
}

// TagEnqueuer enqueues clip:tag tasks, now or at a moment.
type TagEnqueuer interface {
	EnqueueTag(ctx context.Context, clipID string) error
	EnqueueTagAt(ctx context.Context, clipID string, at time.Time) error
}

// Handlers runs clip tasks.
type Handlers struct {
	Store      shopclip.Store
	Blobs      blob.Store
	Transcoder Transcoder
	Tags       TagEnqueuer
	// Sharer renders share MP4s and Shares enqueues them; with either nil,
	// clips get no share MP4.
	Sharer Sharer
	Shares ShareEnqueuer
	// WorkDir holds one directory per running transcode, removed after it.
	WorkDir string
	// MaxCrashes is how many transcoder crashes on one clip end it as
	// failed for good. Default 3. A child stopped at its time limit or
	// killed by the kernel counts as a crash: under load it may be the
	// machine's fault, not the file's.
	MaxCrashes int
	// RetryWindow is how long a transcode keeps retrying errors that are
	// not the file's (storage, database, queue, disk), counted from when
	// it was asked for. Default DefaultRetryWindow. The task's MaxRetry
	// is a backstop.
	RetryWindow time.Duration
	// BuyURL builds a tag's buy URL for the stored timeline. Default
	// shopclip.BuyPath.
	BuyURL func(tagID string) string
	// Observer is told of every task attempt, for metrics; nil: none.
	Observer Observer
	// Webhooks is told when a clip is ready or failed (clip.ready,
	// clip.failed); nil: no one.
	Webhooks shopclip.WebhookEmitter
	Logger   *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (h *Handlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handlers) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Register adds the handlers to mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	if h.Observer != nil {
		mux.Use(h.observe)
	}
	mux.HandleFunc(TypeTranscode, h.HandleTranscode)
	mux.HandleFunc(TypeTag, h.HandleTag)
	mux.HandleFunc(TypeShare, h.HandleShare)
}

// HandleTranscode runs a clip:transcode task: it takes ownership of the clip
// under a new attempt, transcodes the original in a sandboxed child process,
// uploads the outputs under the attempt's generation prefix (master playlist
// last) and flips the clip to ready. Unusable uploads end the clip failed with
// the reason; transient errors are retried, and the clip is failed when the
// last retry fails too, so it never stays processing.
func (h *Handlers) HandleTranscode(ctx context.Context, t *asynq.Task) error {
	p, err := parsePayload(t)
	if err != nil {
		return err
	}
	ctx = taskContext(ctx, p)
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	log := logctx.Logger(ctx, h.logger()).With("attempt", attempt)

	clip, err := h.Store.StartClipAttempt(ctx, p.ClipID, attempt)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		log.Info("transcode: clip is gone; nothing to do")
		return nil
	} else if err != nil {
		return fmt.Errorf("workers: start attempt: %w", err)
	} else if clip.Status.Terminal() {
		log.Info("transcode: clip already done", "status", clip.Status)
		return nil
	}
	log.Info("transcode: started", "attempts", clip.Attempts)
	start := time.Now()
	if err := h.transcode(ctx, clip, attempt, log); err != nil {
		return h.failOrRetry(ctx, clip, attempt, p.since(), err, log)
	}
	log.Info("transcode: published", "seconds", time.Since(start).Seconds())
	h.sweepGenerations(clip.ID, attempt, log)
	if err := h.Tags.EnqueueTag(ctx, clip.ID); err != nil {
		// The pop-ups API prices live from the database; the stored
		// timeline is rebuilt by the next change or the reconciler.
		log.Warn("transcode: enqueue tag task", "err", err)
	}
	return nil
}

func (h *Handlers) transcode(ctx context.Context, clip *shopclip.Clip, attempt string, log *slog.Logger) error {
	dir := filepath.Join(h.WorkDir, clip.ID+"-"+attempt)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("workers: job dir: %w", err)
	}
	defer os.RemoveAll(dir)

	in := filepath.Join(dir, "source")
	verified, err := h.fetchOriginal(ctx, clip, in)
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		return fmt.Errorf("workers: out dir: %w", err)
	}

	// Progress updates double as a fence: once another attempt owns the
	// clip, this one stops.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	progress := h.progressReporter(ctx, clip.ID, attempt, cancel, log)
	prefix := shopclip.GenerationPrefix(clip.ID, attempt)
	pub := newPublisher(ctx, h, clip.ID, attempt, prefix, out, verified, cancel, log)
	pub.clip = clip

	res, err := h.Transcoder.Transcode(ctx, TranscodeJob{
		Input:  in,
		OutDir: out,
		Progress: func(f float64) {
			pub.setProgress(f)
			progress(f)
		},
		File:     pub.file,
		Playable: pub.playable,
	})
	perr := pub.finish()
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		h.deletePrefix(prefix, log)
		return cause
	} else if err != nil {
		h.deletePrefix(prefix, log)
		return err
	} else if perr != nil {
		h.deletePrefix(prefix, log)
		return perr
	}
	if err := verified(); err != nil {
		h.deletePrefix(prefix, log)
		return err
	}
	if err := h.upload(ctx, out, prefix, pub.isUploaded); err != nil {
		h.deletePrefix(prefix, log)
		return err
	}
	final := &shopclip.Publication{
		Generation:    attempt,
		OutputPrefix:  prefix,
		DurationMS:    res.DurationMS,
		Width:         res.Width,
		Height:        res.Height,
		Renditions:    res.Renditions,
		HasMP4:        fileExists(filepath.Join(out, shopclip.MP4File)),
		HasPoster:     fileExists(filepath.Join(out, shopclip.PosterFile)),
		HasStoryboard: fileExists(filepath.Join(out, shopclip.StoryboardFile)),
	}
	err = h.Store.PublishClip(ctx, clip.ID, attempt, final)
	switch code := shopclip.ErrorCode(err); {
	case err == nil:
		h.emitReady(ctx, clip, final, log)
		return nil
	case code == shopclip.ECONFLICT || code == shopclip.ENOTFOUND:
		// Another attempt owns the clip, or it was deleted: our outputs are
		// never referenced.
		log.Warn("transcode: lost ownership before publishing; discarding outputs", "code", code)
		h.deletePrefix(prefix, log)
		return errLostOwnership
	}
	// The outcome is unknown: the update may have committed and only its
	// acknowledgement been lost. Look before deleting anything.
	if c, rerr := h.Store.Clip(context.WithoutCancel(ctx), clip.ID); rerr == nil && c.Status == shopclip.ClipReady && c.Generation == attempt {
		log.Warn("transcode: publish reported an error but committed", "err", err)
		h.emitReady(ctx, clip, final, log)
		return nil
	}
	// Leave the outputs: if the publish did commit after all, they are live;
	// if not, they are an unreferenced generation a janitor may remove.
	return fmt.Errorf("workers: publish: %w", err)
}

var errLostOwnership = errors.New("workers: another attempt owns the clip")

// progressReporter returns a Progress callback that records progress at most
// every second and cancels the transcode when the attempt lost its clip.
func (h *Handlers) progressReporter(ctx context.Context, clipID, attempt string, cancel context.CancelCauseFunc, log *slog.Logger) func(float64) {
	var mu sync.Mutex
	var last time.Time
	return func(p float64) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < time.Second || p < 0 || p > 1 {
			return
		}
		last = time.Now()
		err := h.Store.UpdateClipProgress(ctx, clipID, attempt, p, nil)
		if code := shopclip.ErrorCode(err); code == shopclip.ECONFLICT || code == shopclip.ENOTFOUND {
			cancel(errLostOwnership)
		} else if err != nil {
			log.Warn("transcode: record progress", "err", err)
		}
	}
}

// fetchOriginal puts the clip's original at path and returns a function that
// reports whether its size and SHA-256 match what the upload recorded. When
// the blob store keeps objects as local files, the original is hard-linked
// (instant, whatever its size) and hashed concurrently with the transcode;
// otherwise it is downloaded and hashed on the way.
func (h *Handlers) fetchOriginal(ctx context.Context, clip *shopclip.Clip, path string) (verified func() error, err error) {
	if lf, ok := h.Blobs.(blob.LocalFiler); ok {
		if src, err := lf.LocalPath(clip.OriginalKey); err == nil && os.Link(src, path) == nil {
			result := make(chan error, 1)
			go func() { result <- checkFile(path, clip) }()
			var once sync.Once
			var verr error
			return func() error {
				once.Do(func() { verr = <-result })
				return verr
			}, nil
		}
	}
	sum := sha256.New()
	n, err := h.download(ctx, clip.OriginalKey, path, sum)
	if err != nil {
		return nil, err
	}
	err = checkDigest(clip, n, hex.EncodeToString(sum.Sum(nil)))
	return func() error { return err }, nil
}

// checkFile hashes the file at path and compares it with the upload's record.
func checkFile(path string, clip *shopclip.Clip) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("workers: check original: %w", err)
	}
	defer f.Close()
	sum := sha256.New()
	n, err := io.Copy(sum, f)
	if err != nil {
		return fmt.Errorf("workers: check original: %w", err)
	}
	return checkDigest(clip, n, hex.EncodeToString(sum.Sum(nil)))
}

func checkDigest(clip *shopclip.Clip, n int64, digest string) error {
	if clip.OriginalSize > 0 && n != clip.OriginalSize {
		return fmt.Errorf("workers: original is %d bytes, want %d", n, clip.OriginalSize)
	}
	if clip.OriginalSHA256 != "" && digest != clip.OriginalSHA256 {
		return fmt.Errorf("workers: original's SHA-256 is %s, want %s", digest, clip.OriginalSHA256)
	}
	return nil
}

// upload puts every file under dir at prefix, the master playlist last, so a
// reader who finds the master finds everything it names. Files for which
// skip reports true are already there.
func (h *Handlers) upload(ctx context.Context, dir, prefix string, skip func(rel string) bool) error {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !d.Type().IsRegular() {
			// A link, FIFO or device: the engine writes none, so the child
			// misbehaved on this file (counted as a crash).
			return fmt.Errorf("workers: output %s is not a regular file (%s): %w", rel, d.Type(),
				shopclip.Errorf(shopclip.EMEDIACRASH, "The video processor misbehaved on this file."))
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return fmt.Errorf("workers: list outputs: %w", err)
	}
	sort.SliceStable(files, func(i, j int) bool {
		return files[i] != shopclip.MasterPlaylist && files[j] == shopclip.MasterPlaylist
	})
	if len(files) == 0 || files[len(files)-1] != shopclip.MasterPlaylist {
		return fmt.Errorf("workers: transcode made no %s", shopclip.MasterPlaylist)
	}
	for _, rel := range files {
		if skip(rel) {
			continue
		}
		if err := h.putFile(ctx, dir, rel, prefix+rel); err != nil {
			return err
		}
	}
	return nil
}

// putFile uploads the regular file rel of dir, a directory the sandboxed
// child wrote, to key. No symbolic link is followed on the way
// (transcode.OpenOutput): a hostile child cannot make the worker upload its
// secrets or another job's files.
func (h *Handlers) putFile(ctx context.Context, dir, rel, key string) error {
	f, err := transcode.OpenOutput(dir, rel)
	if err != nil {
		return fmt.Errorf("workers: upload %s: %w", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("workers: upload %s: %w", key, err)
	}
	err = h.Blobs.Put(ctx, key, f, fi.Size(), blob.PutOptions{ContentType: blob.ContentTypeByKey(key)})
	if err != nil {
		return fmt.Errorf("workers: upload %s: %w", key, err)
	}
	return nil
}

// sweepGenerations deletes the outputs of every generation of a clip but
// keep: what earlier attempts left when their worker died mid-upload, or
// when a publish's outcome was unknown. Failures are only logged; the next
// terminal attempt sweeps again.
func (h *Handlers) sweepGenerations(clipID, keep string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objs, err := h.Blobs.List(ctx, shopclip.ClipPrefix(clipID))
	if err != nil {
		log.Warn("transcode: list generations", "err", err)
		return
	}
	stale := map[string]bool{}
	for _, o := range objs {
		gen, _, nested := strings.Cut(strings.TrimPrefix(o.Key, shopclip.ClipPrefix(clipID)), "/")
		if nested && gen != keep && strings.HasPrefix(gen, shopclip.PrefixAttempt+"_") {
			stale[gen] = true
		}
	}
	for gen := range stale {
		log.Info("transcode: removing the outputs of an abandoned attempt", "generation", gen)
		h.deletePrefix(shopclip.GenerationPrefix(clipID, gen), log)
	}
}

func (h *Handlers) putBytes(ctx context.Context, body []byte, key string) error {
	err := h.Blobs.Put(ctx, key, bytes.NewReader(body), int64(len(body)), blob.PutOptions{ContentType: blob.ContentTypeByKey(key)})
	if err != nil {
		return fmt.Errorf("workers: upload %s: %w", key, err)
	}
	return nil
}

func (h *Handlers) deletePrefix(prefix string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Blobs.DeletePrefix(ctx, prefix); err != nil {
		log.Warn("transcode: delete unpublished outputs", "prefix", prefix, "err", err)
	}
}

// DefaultRetryWindow is Handlers.RetryWindow's default: an outage of
// storage, the database or the queue shorter than this fails no clip.
const DefaultRetryWindow = time.Hour

// failOrRetry decides what a failed attempt means for its clip. The file's
// faults end it at once; crashes (and kills at a limit) are retried up to
// MaxCrashes; anything else is ours, and retried until the retry window
// since the transcode was asked for (since; zero when unknown) has passed.
func (h *Handlers) failOrRetry(ctx context.Context, clip *shopclip.Clip, attempt string, since time.Time, err error, log *slog.Logger) error {
	if errors.Is(err, errLostOwnership) {
		return nil // the owner of the clip is responsible for it now
	}
	if ctx.Err() != nil {
		// Shutdown or task timeout: asynq requeues or retries the task.
		log.Warn("transcode: interrupted", "err", err)
		return err
	}
	code := shopclip.ErrorCode(err)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	maxCrashes := cmp.Or(h.MaxCrashes, 3)
	window := cmp.Or(h.RetryWindow, DefaultRetryWindow)
	var final *shopclip.Error
	switch {
	case code == shopclip.EMEDIACRASH || transcode.UnderLoad(err):
		// Crashes are counted apart from other failures: a clip that
		// crashes the transcoder every time is poison, one that crashed
		// once among transient errors may not be. So are kills at a time
		// or memory limit, which a busy machine can cause.
		crashes, cerr := h.Store.RecordClipCrash(ctx, clip.ID, attempt)
		if c := shopclip.ErrorCode(cerr); c == shopclip.ECONFLICT || c == shopclip.ENOTFOUND {
			return nil
		} else if cerr != nil {
			return fmt.Errorf("workers: record crash: %w (after %w)", cerr, err)
		}
		if crashes < maxCrashes && retried < maxRetry {
			log.Warn("transcode: transcoder crashed or was stopped; will retry", "err", err, "crashes", crashes)
			return err
		}
		if code == shopclip.EMEDIACRASH {
			final = shopclip.Errorf(code, "The transcoder crashed on this file %d times; it is probably corrupt or uses a feature we do not support.", crashes)
		} else {
			final = shopclip.Errorf(code, "%s (%d times)", strings.TrimSuffix(shopclip.ErrorMessage(err), "."), crashes)
		}
	case shopclip.IsMediaError(code):
		final = &shopclip.Error{Code: code, Message: shopclip.ErrorMessage(err)}
	case retried >= maxRetry || !since.IsZero() && h.now().Sub(since) >= window:
		final = shopclip.Errorf(shopclip.EINTERNAL,
			"We could not process this clip because of a problem on our side that lasted over %s (%d attempts). The upload is kept: retry it later, or contact the operator.",
			humanWindow(h.now().Sub(since), window, since.IsZero()), retried+1)
	default:
		log.Warn("transcode: failed; will retry", "err", err, "retried", retried, "max_retry", maxRetry, "retry_window", window)
		return err
	}
	log.Info("transcode: clip failed", "code", final.Code, "reason", final.Message, "err", err)
	if ferr := h.Store.FailClip(ctx, clip.ID, attempt, final); ferr != nil {
		if c := shopclip.ErrorCode(ferr); c == shopclip.ECONFLICT || c == shopclip.ENOTFOUND {
			return nil
		}
		return fmt.Errorf("workers: record failure: %w", ferr)
	}
	h.sweepGenerations(clip.ID, "", log)
	h.emit(ctx, shopclip.EventClipFailed, clip, map[string]any{"code": final.Code, "reason": final.Message}, log)
	return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
}

// humanWindow names how long a transcode has been retried, in whole
// minutes (or the window when its start is unknown).
func humanWindow(elapsed, window time.Duration, unknown bool) string {
	if unknown || elapsed < window {
		elapsed = window
	}
	return elapsed.Round(time.Minute).String()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// ctxReader stops a long copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
