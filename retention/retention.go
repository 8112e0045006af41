// Package retention keeps the events table small: a Pruner, run by every
// worker process beside the janitor, deletes the raw viewer events older
// than the configured retention (events.retention), a bounded number a
// pass, in batches (shopclip.EventRetention). Stats read rollups (by hour
// and by day) kept as events are recorded, so they do not change when
// events go; attribution reads raw clicks only within
// shopclip.AttributionWindow, which the retention is never shorter than.
package retention

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/shopclip/shopclip"
)

// DefaultMaxPerPass bounds the events one pass deletes: ten batches.
const DefaultMaxPerPass = 10 * shopclip.EventPruneBatch

// DefaultInterval is how often Run passes when given no interval.
const DefaultInterval = 10 * time.Minute

// Pruner deletes raw events past their retention. The zero values of its
// fields mean their defaults; Events is required.
type Pruner struct {
	Events shopclip.EventRetention
	// Retention is how long events are kept. Default
	// shopclip.DefaultEventRetention; never less than
	// shopclip.AttributionWindow (a shorter one is raised to it).
	Retention time.Duration
	// MaxPerPass bounds the events one pass deletes, so that a backlog
	// (a first pass over years of events) is worked through a pass at a
	// time. Default DefaultMaxPerPass.
	MaxPerPass int
	Now        func() time.Time // default time.Now
	Logger     *slog.Logger     // default slog.Default()
}

func (p *Pruner) retention() time.Duration {
	return max(cmp.Or(p.Retention, shopclip.DefaultEventRetention), shopclip.AttributionWindow)
}

func (p *Pruner) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// Pass deletes up to MaxPerPass events older than the retention, and
// returns how many it deleted.
func (p *Pruner) Pass(ctx context.Context) (int64, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	return p.Events.PruneEvents(ctx, now().Add(-p.retention()), cmp.Or(p.MaxPerPass, DefaultMaxPerPass))
}

// Run passes at once and then every interval (DefaultInterval when 0)
// until ctx is done, logging what each pass deleted and any failure (the
// next pass retries).
func (p *Pruner) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(cmp.Or(interval, DefaultInterval))
	defer t.Stop()
	for {
		n, err := p.Pass(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.logger().Warn("retention: prune events", "err", err, "deleted", n)
		case n > 0:
			p.logger().Info("retention: pruned events", "deleted", n, "retention", p.retention().String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
