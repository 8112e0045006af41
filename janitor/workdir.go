package janitor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/shopclip/shopclip"
)

// The job directories the workers make in their work directory, the only
// entries the janitor removes there:
//
//	<clip ID>-<attempt ID>       a transcode (workers.Handlers.HandleTranscode)
//	share-<clip ID>-<digits>     a share render (os.MkdirTemp)
//
// and the lock every worker process holds shared while it runs.
const workLock = ".workers.lock"

// jobDir parses a job directory's name: its clip, and its attempt for a
// transcode ("" for a share render). ok is false for names the workers do
// not make.
func jobDir(name string) (clipID, attempt string, ok bool) {
	if rest, isShare := strings.CutPrefix(name, "share-"); isShare {
		id, digits, found := strings.Cut(rest, "-")
		if !found || !shopclip.ValidID(shopclip.PrefixClip, id) || digits == "" || strings.Trim(digits, "0123456789") != "" {
			return "", "", false
		}
		return id, "", true
	}
	id, att, found := strings.Cut(name, "-")
	if !found || !shopclip.ValidID(shopclip.PrefixClip, id) || !shopclip.ValidID(shopclip.PrefixAttempt, att) {
		return "", "", false
	}
	return id, att, true
}

// ClaimWorkDir is called once when a worker process starts, before it takes
// tasks. It takes this process's shared lock on the work directory (held
// until release) and removes the job directories left by dead workers: all
// of them when no other worker process holds the lock (nothing can be
// running), else those a pass would remove. It returns how many it removed.
func (j *Janitor) ClaimWorkDir(ctx context.Context) (removed int64, release func() error, err error) {
	if err := os.MkdirAll(j.WorkDir, 0o700); err != nil {
		return 0, nil, fmt.Errorf("janitor: work dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(j.WorkDir, workLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return 0, nil, fmt.Errorf("janitor: work dir lock: %w", err)
	}
	alone := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
	var c Counts
	serr := j.sweepJobDirs(ctx, j.now(), alone, &c)
	// Shared from now on: other workers starting see this one (a brief
	// wait while another one sweeps alone).
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return c.JobDirs, nil, fmt.Errorf("janitor: work dir lock: %w", err)
	}
	return c.JobDirs, f.Close, serr
}

// sweepJobDirs removes the job directories of dead workers: with all, every
// one (no worker is running); else those that have not changed for the
// grace, unless their clip is processing under their attempt (a transcode
// may be running: the reconciler hands a stuck one to a new attempt first).
func (j *Janitor) sweepJobDirs(ctx context.Context, now time.Time, all bool, c *Counts) error {
	ents, err := os.ReadDir(j.WorkDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("janitor: read work dir: %w", err)
	}
	var errs []error
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		clipID, attempt, ok := jobDir(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		dir := filepath.Join(j.WorkDir, e.Name())
		if !all {
			if newest, err := newestIn(dir); err != nil || !j.old(now, newest) {
				continue
			}
			if attempt != "" {
				refs, err := j.Clips.ClipRefs(ctx, []string{clipID})
				if err != nil {
					errs = append(errs, fmt.Errorf("janitor: look up clip %s: %w", clipID, err))
					continue
				}
				if r, found := refs[clipID]; found && r.Status == shopclip.ClipProcessing && r.AttemptID == attempt {
					continue
				}
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("janitor: remove %s: %w", dir, err))
			continue
		}
		j.removed(c, ReasonJobDir, dir, clipID)
	}
	return errors.Join(errs...)
}

// newestIn returns the latest modification time of dir and everything in
// it (symbolic links not followed).
func newestIn(dir string) (time.Time, error) {
	var newest time.Time
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed as we walked
		}
		newest = later(newest, fi.ModTime())
		return nil
	})
	return newest, err
}
