// Package janitor removes what crashes leave behind and nothing references:
// an original stored before its upload was recorded, the objects of a
// deleted clip whose deletes failed, the generation prefixes of transcode
// attempts that never published or were superseded, replaced share MP4s,
// and the job directories of killed workers.
//
// Nothing is removed before it is Grace old (and, for a clip's outputs,
// before the clip itself has been still for Grace): a janitor must never
// race an upload between its object and its row, or an attempt that is
// still writing. The published generation, the owning attempt of a
// processing clip, the current share and the overlays are never removed.
//
// A pass walks the blob store a page at a time (blob.Store.ListPage) and
// asks the database about one page's clips at once (shopclip.ClipLookup):
// its memory is one page, whatever the bucket holds.
package janitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// Defaults of Janitor's fields.
const (
	DefaultGrace    = time.Hour
	DefaultInterval = 10 * time.Minute
)

// Reasons name why an object or directory was removed, in logs and counts.
const (
	ReasonOriginal   = "original without a clip"
	ReasonDeleted    = "outputs of a deleted clip"
	ReasonGeneration = "generation never published or superseded"
	ReasonShare      = "replaced share"
	ReasonJobDir     = "job directory of a dead worker"
)

// Counts are removals by reason: objects for originals and shares,
// prefixes for deleted clips and generations, directories for jobs.
type Counts struct {
	Originals   int64
	DeletedClip int64 // clip prefixes
	Generations int64
	Shares      int64
	JobDirs     int64
}

// Total is the sum of c.
func (c Counts) Total() int64 {
	return c.Originals + c.DeletedClip + c.Generations + c.Shares + c.JobDirs
}

// Janitor finds and removes orphans. Set the fields, then call Pass (once)
// or Run (every interval); SweepWorkDir at worker start. Zero values mean
// the documented defaults. A Janitor is safe for concurrent use, and so is
// running one in several processes: removals are idempotent.
type Janitor struct {
	Blobs blob.Store
	Clips shopclip.ClipLookup
	// Grace is how old an orphan must be before it is removed. Default
	// DefaultGrace.
	Grace time.Duration
	// WorkDir holds the workers' job directories; "" leaves directories
	// alone.
	WorkDir string
	// PageSize is how many keys a pass lists at once. Default
	// blob.MaxListPage.
	PageSize int
	// Now is the clock. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	total struct{ originals, deleted, generations, shares, jobDirs atomic.Int64 }
}

func (j *Janitor) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *Janitor) grace() time.Duration { return cmp.Or(j.Grace, DefaultGrace) }

func (j *Janitor) pageSize() int {
	if j.PageSize > 0 {
		return min(j.PageSize, blob.MaxListPage, shopclip.MaxClipLookup)
	}
	return min(blob.MaxListPage, shopclip.MaxClipLookup)
}

func (j *Janitor) logger() *slog.Logger {
	if j.Logger != nil {
		return j.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Totals returns the removals of every pass so far.
func (j *Janitor) Totals() Counts {
	return Counts{
		Originals:   j.total.originals.Load(),
		DeletedClip: j.total.deleted.Load(),
		Generations: j.total.generations.Load(),
		Shares:      j.total.shares.Load(),
		JobDirs:     j.total.jobDirs.Load(),
	}
}

// removed counts and logs one removal.
func (j *Janitor) removed(c *Counts, reason, what, clipID string) {
	var n *int64
	var total *atomic.Int64
	switch reason {
	case ReasonOriginal:
		n, total = &c.Originals, &j.total.originals
	case ReasonDeleted:
		n, total = &c.DeletedClip, &j.total.deleted
	case ReasonGeneration:
		n, total = &c.Generations, &j.total.generations
	case ReasonShare:
		n, total = &c.Shares, &j.total.shares
	case ReasonJobDir:
		n, total = &c.JobDirs, &j.total.jobDirs
	}
	*n++
	total.Add(1)
	j.logger().Info("janitor: removed", "key", what, "reason", reason, "clip_id", clipID)
}

// Run runs a pass at once and then every interval (default
// DefaultInterval) until ctx ends.
func (j *Janitor) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(cmp.Or(interval, DefaultInterval))
	defer t.Stop()
	for {
		if c, err := j.Pass(ctx); err != nil && ctx.Err() == nil {
			j.logger().Warn("janitor: pass", "err", err, "removed", c.Total())
		} else if c.Total() > 0 {
			j.logger().Info("janitor: pass", "originals", c.Originals, "deleted_clips", c.DeletedClip,
				"generations", c.Generations, "shares", c.Shares, "job_dirs", c.JobDirs)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass makes one pass over the originals, the clips' outputs and the work
// directory, and returns what it removed. It goes on past a failed removal
// (the next pass retries it) and returns the errors joined.
func (j *Janitor) Pass(ctx context.Context) (Counts, error) {
	var c Counts
	now := j.now()
	err := errors.Join(
		j.sweepOriginals(ctx, now, &c),
		j.sweepClips(ctx, now, &c),
	)
	if j.WorkDir != "" && ctx.Err() == nil {
		err = errors.Join(err, j.sweepJobDirs(ctx, now, false, &c))
	}
	return c, err
}

// old reports whether something last changed at t is past the grace.
func (j *Janitor) old(now, t time.Time) bool { return now.Sub(t) >= j.grace() }

// sweepOriginals removes originals/<id> with no clip id.
func (j *Janitor) sweepOriginals(ctx context.Context, now time.Time, c *Counts) error {
	const prefix = "originals/"
	var errs []error
	after := ""
	for {
		page, err := j.Blobs.ListPage(ctx, prefix, after, j.pageSize())
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("janitor: list originals: %w", err))...)
		}
		if len(page) == 0 {
			return errors.Join(errs...)
		}
		after = page[len(page)-1].Key
		ids := make([]string, 0, len(page))
		for _, o := range page {
			ids = append(ids, strings.TrimPrefix(o.Key, prefix))
		}
		refs, err := j.Clips.ClipRefs(ctx, ids)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("janitor: look up clips: %w", err))...)
		}
		for _, o := range page {
			id := strings.TrimPrefix(o.Key, prefix)
			if !shopclip.ValidID(shopclip.PrefixClip, id) || o.Key != shopclip.OriginalKey(id) {
				continue // not a name this layout makes
			}
			if _, found := refs[id]; found || !j.old(now, o.ModTime) {
				continue
			}
			if err := j.Blobs.Delete(ctx, o.Key); err != nil {
				errs = append(errs, fmt.Errorf("janitor: delete %s: %w", o.Key, err))
				continue
			}
			j.removed(c, ReasonOriginal, o.Key, id)
		}
	}
}

// group is a run of keys under one prefix that is removed whole: a
// deleted clip's prefix, or one generation of a clip.
type group struct {
	prefix, clipID, gen, reason string
	newest                      time.Time
	keep                        bool // referenced: only skipped over
}

// sweepClips walks clips/ in key order, in which each clip's keys, and each
// generation's, are contiguous: a group is decided when the walk leaves it,
// by the newest of its objects, however many pages it spans.
func (j *Janitor) sweepClips(ctx context.Context, now time.Time, c *Counts) error {
	const prefix = "clips/"
	var errs []error
	var cur *group
	flush := func() {
		if cur != nil {
			if err := j.removeGroup(ctx, now, cur, c); err != nil {
				errs = append(errs, err)
			}
			cur = nil
		}
	}
	after := ""
	for {
		page, err := j.Blobs.ListPage(ctx, prefix, after, j.pageSize())
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("janitor: list clips: %w", err))...)
		}
		if len(page) == 0 {
			flush()
			return errors.Join(errs...)
		}
		after = page[len(page)-1].Key
		ids := make([]string, 0, len(page))
		for _, o := range page {
			id, _, _ := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
			if len(ids) == 0 || ids[len(ids)-1] != id {
				ids = append(ids, id)
			}
		}
		refs, err := j.Clips.ClipRefs(ctx, ids)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("janitor: look up clips: %w", err))...)
		}
		for _, o := range page {
			id, rest, nested := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
			if !nested || !shopclip.ValidID(shopclip.PrefixClip, id) {
				flush()
				continue // not a name this layout makes
			}
			if cur != nil && strings.HasPrefix(o.Key, cur.prefix) {
				cur.newest = later(cur.newest, o.ModTime)
				continue
			}
			flush()
			ref, found := refs[id]
			gen, _, inGen := strings.Cut(rest, "/")
			switch {
			case !found:
				cur = &group{prefix: shopclip.ClipPrefix(id), clipID: id, reason: ReasonDeleted, newest: o.ModTime}
			case inGen && shopclip.ValidID(shopclip.PrefixAttempt, gen):
				cur = &group{prefix: shopclip.GenerationPrefix(id, gen), clipID: id, gen: gen, reason: ReasonGeneration, newest: o.ModTime,
					keep: !abandoned(ref, gen)}
			case !inGen && shopclip.IsShareKey(id, o.Key) && o.Key != ref.ShareKey:
				if err := j.removeShare(ctx, now, id, o, ref, c); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// removeGroup removes g's prefix if, looked up again now, nothing
// references it and it has been still for the grace.
func (j *Janitor) removeGroup(ctx context.Context, now time.Time, g *group, c *Counts) error {
	if g.keep || !j.old(now, g.newest) {
		return nil
	}
	refs, err := j.Clips.ClipRefs(ctx, []string{g.clipID})
	if err != nil {
		return fmt.Errorf("janitor: look up clip %s: %w", g.clipID, err)
	}
	ref, found := refs[g.clipID]
	switch {
	case g.reason == ReasonDeleted && found:
		return nil // recorded after all (a row restored from a backup)
	case g.reason == ReasonGeneration && (!found || !abandoned(ref, g.gen) || !j.old(now, ref.UpdatedAt)):
		// Gone since (its prefix is the next pass's), or current, or
		// owned by a running attempt, or the clip changed within the
		// grace: an attempt may still be writing or a viewer reading.
		return nil
	}
	if err := j.Blobs.DeletePrefix(ctx, g.prefix); err != nil {
		return fmt.Errorf("janitor: delete %s: %w", g.prefix, err)
	}
	j.removed(c, g.reason, g.prefix, g.clipID)
	return nil
}

// abandoned reports whether gen is neither ref's published generation nor
// the attempt that owns it while it is processing.
func abandoned(ref shopclip.ClipRef, gen string) bool {
	return gen != ref.Generation && !(ref.Status == shopclip.ClipProcessing && gen == ref.AttemptID)
}

// removeShare removes a share MP4 other than the clip's current one once
// it has been replaced for the grace: since the current share was stored,
// or its own time if it is newer (a render whose recording was lost).
func (j *Janitor) removeShare(ctx context.Context, now time.Time, clipID string, o blob.Info, ref shopclip.ClipRef, c *Counts) error {
	if !j.old(now, o.ModTime) {
		return nil
	}
	if ref.ShareKey != "" {
		cur, err := j.Blobs.Stat(ctx, ref.ShareKey)
		if err != nil && shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
			return fmt.Errorf("janitor: stat %s: %w", ref.ShareKey, err)
		} else if err == nil && !j.old(now, cur.ModTime) {
			return nil
		}
	}
	if err := j.Blobs.Delete(ctx, o.Key); err != nil {
		return fmt.Errorf("janitor: delete %s: %w", o.Key, err)
	}
	j.removed(c, ReasonShare, o.Key, clipID)
	return nil
}
