package webhooks

import (
	"context"
	"time"
)

// Sweep defaults.
const (
	// UnsentAfter is how long a delivery may wait, never attempted, before
	// Sweep queues it again (its task was lost: the queue was down when it
	// was recorded).
	UnsentAfter = time.Minute
	// DefaultKeepDeliveries is how long finished deliveries and their
	// attempts are kept for their owners to see.
	DefaultKeepDeliveries = 30 * 24 * time.Hour
)

// Sweep queues the deliveries recorded but never queued, and deletes the
// finished deliveries older than keep (DefaultKeepDeliveries when 0). It
// returns how many it queued and deleted.
func (s *Service) Sweep(ctx context.Context, keep time.Duration) (queued, deleted int, err error) {
	if keep <= 0 {
		keep = DefaultKeepDeliveries
	}
	now := s.cfg.Now()
	ds, err := s.cfg.Store.UnsentDeliveries(ctx, now.Add(-UnsentAfter), 1000)
	if err != nil {
		return 0, 0, err
	}
	for _, d := range ds {
		if err := s.cfg.Queue.EnqueueDelivery(ctx, d.ID, false); err != nil {
			return queued, 0, err
		}
		queued++
	}
	for range 100 { // at most a million a sweep
		n, err := s.cfg.Store.DeleteDeliveries(ctx, now.Add(-keep), 10000)
		deleted += n
		if err != nil || n < 10000 {
			return queued, deleted, err
		}
	}
	return queued, deleted, nil
}

// Run sweeps every interval until ctx is done, logging what it did.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		queued, deleted, err := s.Sweep(ctx, 0)
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("webhooks: sweep", "err", err)
		} else if queued+deleted > 0 {
			s.cfg.Logger.Info("webhooks: sweep", "queued", queued, "deleted", deleted)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
