package storefront

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/ratelimit"
)

// UploadQuota bounds what one account may upload (RELIABILITY E9). Zero
// fields mean no bound.
type UploadQuota struct {
	// MaxBytes bounds the bytes an account's uploads hold: the originals
	// of its clips and the declared sizes of its unfinished uploads.
	MaxBytes int64
	// MaxPerDay bounds the uploads an account starts in a UTC day.
	MaxPerDay int
}

// Upload concurrency defaults.
const (
	defaultMaxConcurrentUploads           = 64
	defaultMaxConcurrentUploadsPerAccount = 4
)

// holdTTL is how long an unfinished upload counts against its account's
// quota: past it, its client gave up (local uploads untouched for a day
// and S3 multipart uploads older than a day are dropped).
const holdTTL = 48 * time.Hour

// busyRetry is the Retry-After of an upload refused for being one too
// many at once.
const busyRetry = 5 * time.Second

// retryLater is an error whose answer carries Retry-After.
type retryLater struct {
	err  *shopclip.Error
	wait time.Duration
}

func (e *retryLater) Error() string             { return e.err.Error() }
func (e *retryLater) Unwrap() error             { return e.err }
func (e *retryLater) RetryAfter() time.Duration { return e.wait }

// retryAfter returns how long the client of a request that failed with err
// should wait, when err says.
func retryAfter(err error) (time.Duration, bool) {
	var later interface{ RetryAfter() time.Duration }
	if errors.As(err, &later) {
		return later.RetryAfter(), true
	}
	return 0, false
}

// setRetryAfter writes the Retry-After header of a wait, in whole seconds,
// at least 1.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int((wait+time.Second-1)/time.Second))))
}

// enterUpload takes one of the places of uploads receiving bytes, the
// account's and the process's: 429 when the account has too many at once,
// 503 when the process does. Call leave when the bytes are in.
func (s *Server) enterUpload(acct *shopclip.Account) (func(), error) {
	leave, err := s.uploadGate.Enter(acct.ID)
	switch {
	case errors.Is(err, ratelimit.ErrKeyBusy):
		return nil, &retryLater{shopclip.Errorf(shopclip.ERATELIMITED,
			"You have %d uploads in progress, the most at once: retry when one has finished.", s.MaxConcurrentUploadsPerAccount), busyRetry}
	case err != nil:
		return nil, &retryLater{shopclip.Errorf(shopclip.EUNAVAILABLE,
			"The server is receiving as many uploads as it can: retry in a few seconds."), busyRetry}
	}
	done := s.metrics.UploadStarted()
	return func() {
		leave()
		done()
	}, nil
}

// holdUpload reserves room for an upload of size bytes in acct's quotas,
// and returns the hold to release when the upload has ended ("" without
// quotas): 413 when it does not fit the storage quota, 429 with Retry-After
// (the next UTC midnight) past the day's uploads.
func (s *Server) holdUpload(ctx context.Context, accountID string, size int64) (string, error) {
	if s.Quotas == nil || s.UploadQuota == (UploadQuota{}) {
		return "", nil
	}
	now := s.now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	l := shopclip.UploadLimits{MaxBytes: s.UploadQuota.MaxBytes, MaxUploads: s.UploadQuota.MaxPerDay, Day: day, HoldsSince: now.Add(-holdTTL)}
	h := &shopclip.UploadHold{ID: shopclip.NewID(shopclip.PrefixHold), AccountID: accountID, Size: size}
	u, fits, err := s.Quotas.HoldUpload(ctx, h, l)
	switch {
	case err != nil:
		return "", err
	case fits:
		return h.ID, nil
	case l.MaxUploads > 0 && u.Uploads+1 > l.MaxUploads:
		return "", &retryLater{shopclip.Errorf(shopclip.ERATELIMITED,
			"You have started %d uploads today, the most in a day (UTC): retry tomorrow.", u.Uploads), day.AddDate(0, 0, 1).Sub(now)}
	}
	return "", shopclip.Errorf(shopclip.ETOOLARGE,
		"This upload (%s) does not fit your storage quota of %s: your clips and unfinished uploads use %s. Delete clips or cancel unfinished uploads to make room.",
		humanBytes(size), humanBytes(l.MaxBytes), humanBytes(u.Bytes()))
}

// releaseHold gives back the room a hold reserved, even when ctx has ended.
func (s *Server) releaseHold(ctx context.Context, hold string) {
	if hold == "" || s.Quotas == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Quotas.ReleaseUpload(ctx, hold); err != nil {
		// The hold goes stale and stops counting after holdTTL.
		s.logger().WarnContext(ctx, "upload: release hold", "hold", hold, "err", err)
	}
}

// admitUpload is the tus service's Admit: a resumable upload holds its
// declared size from its creation.
func (s *Server) admitUpload(ctx context.Context, owner string, size int64) (string, error) {
	return s.holdUpload(ctx, owner, size)
}

// holdSize is how much a simple upload may bring: its declared length, or
// the largest upload.
func (s *Server) holdSize(r *http.Request) int64 {
	if r.ContentLength > 0 {
		return min(r.ContentLength, s.MaxUploadBytes)
	}
	return s.MaxUploadBytes
}
