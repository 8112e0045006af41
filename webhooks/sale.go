package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
)

// TaskSale announces a discount's start or end (sale.started, sale.ended)
// at that moment: a task scheduled when the discount is made.
const TaskSale = "webhook:sale"

// Catalog is what announcing a sale reads: the discount, its product and
// the clips that tag it. shopclip.Store is one.
type Catalog interface {
	Product(ctx context.Context, id string) (*shopclip.Product, error)
	ProductDiscounts(ctx context.Context, productID string) ([]*shopclip.Discount, error)
	ProductClipIDs(ctx context.Context, productID string) ([]string, error)
	Clip(ctx context.Context, id string) (*shopclip.Clip, error)
}

type salePayload struct {
	DiscountID string `json:"discount_id"`
	ProductID  string `json:"product_id"`
	Event      string `json:"event"`
}

// ScheduleSale schedules the announcements of d's start (now, when it has
// started) and end.
func (s *Service) ScheduleSale(ctx context.Context, d *shopclip.Discount) error {
	for _, at := range []struct {
		event string
		when  time.Time
	}{{shopclip.EventSaleStarted, d.StartsAt}, {shopclip.EventSaleEnded, d.EndsAt}} {
		if err := s.cfg.Queue.EnqueueSale(ctx, d, at.event, at.when); err != nil {
			return err
		}
	}
	return nil
}

// EnqueueSale schedules the announcement of event of d at when (task ID:
// the discount's and the event's, so it is scheduled once).
func (q Enqueuer) EnqueueSale(ctx context.Context, d *shopclip.Discount, event string, when time.Time) error {
	b, _ := json.Marshal(salePayload{DiscountID: d.ID, ProductID: d.ProductID, Event: event})
	_, err := q.Client.EnqueueContext(ctx, asynq.NewTask(TaskSale, b), asynq.Queue(QueueName), asynq.ProcessAt(when),
		asynq.MaxRetry(MaxRetry), asynq.TaskID("sale:"+d.ID+":"+event), asynq.Retention(24*time.Hour))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "The sale's announcement could not be scheduled: %v", err)
	}
	return nil
}

// AnnounceSale emits event (sale.started or sale.ended) of a product's
// discount to the product's brand and the creators of the clips tagging it.
// A discount or product gone is not an error: there is nothing to announce.
func (s *Service) AnnounceSale(ctx context.Context, productID, discountID, event string) error {
	if s.cfg.Catalog == nil {
		return errors.New("webhooks: no catalog to announce sales from")
	}
	p, err := s.cfg.Catalog.Product(ctx, productID)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	ds, err := s.cfg.Catalog.ProductDiscounts(ctx, productID)
	if err != nil {
		return err
	}
	var d *shopclip.Discount
	for _, x := range ds {
		if x.ID == discountID {
			d = x
		}
	}
	if d == nil {
		return nil
	}
	clipIDs, err := s.cfg.Catalog.ProductClipIDs(ctx, productID)
	if err != nil {
		return err
	}
	accounts := []string{p.BrandID}
	for _, id := range clipIDs {
		c, err := s.cfg.Catalog.Clip(ctx, id)
		if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		accounts = append(accounts, c.CreatorID)
	}
	return s.Emit(ctx, event, accounts, map[string]any{
		"product_id": p.ID, "product_title": p.Title, "discount": d, "clip_ids": clipIDs,
	})
}

// processSale handles TaskSale.
func (s *Service) processSale(ctx context.Context, t *asynq.Task) error {
	var p salePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DiscountID == "" ||
		(p.Event != shopclip.EventSaleStarted && p.Event != shopclip.EventSaleEnded) {
		return fmt.Errorf("webhooks: bad sale payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	if err := s.AnnounceSale(ctx, p.ProductID, p.DiscountID, p.Event); err != nil {
		return fmt.Errorf("webhooks: announce %s of %s: %w", p.Event, p.DiscountID, err)
	}
	return nil
}
