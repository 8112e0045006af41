package webhooks

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/shopclip/shopclip"
)

// Defaults of a Service.
const (
	// DefaultRotationOverlap is how long the previous secret still signs
	// after a rotation.
	DefaultRotationOverlap = 24 * time.Hour
	// DefaultDisableAfter is how long an endpoint fails every delivery
	// before it is disabled.
	DefaultDisableAfter = 5 * 24 * time.Hour
	// MaxDeliveries bounds a deliveries listing.
	MaxDeliveries = 100
)

// Queue queues one attempt to deliver (replay tells a replay asked for by
// the owner from a delivery's first), and schedules the announcement of a
// sale's event at a moment.
type Queue interface {
	EnqueueDelivery(ctx context.Context, deliveryID string, replay bool) error
	EnqueueSale(ctx context.Context, d *shopclip.Discount, event string, when time.Time) error
}

// Config is what a Service needs. Zero durations mean the defaults.
type Config struct {
	Store  shopclip.Webhooks
	Client *Client
	Queue  Queue
	// Catalog is read to announce sales; without it they are not.
	Catalog Catalog
	// RotationOverlap: DefaultRotationOverlap.
	RotationOverlap time.Duration
	// DisableAfter: DefaultDisableAfter.
	DisableAfter time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Service manages accounts' endpoints, records the events they subscribed
// to as deliveries, and delivers them one attempt at a time.
type Service struct{ cfg Config }

var _ shopclip.WebhookEmitter = (*Service)(nil)

// NewService returns a Service.
func NewService(cfg Config) *Service {
	cfg.RotationOverlap = cmp.Or(cfg.RotationOverlap, DefaultRotationOverlap)
	cfg.DisableAfter = cmp.Or(cfg.DisableAfter, DefaultDisableAfter)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(ClientConfig{Now: cfg.Now})
	}
	return &Service{cfg: cfg}
}

// Create registers an endpoint for account; its Secret is in the answer,
// the only time it is shown.
func (s *Service) Create(ctx context.Context, accountID, url string, events []string) (*shopclip.WebhookEndpoint, error) {
	if err := s.cfg.Client.CheckURL(url); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, shopclip.Errorf(shopclip.EINVALID, "Name at least one event: %v.", shopclip.WebhookEvents)
	}
	events = slices.Clone(events)
	slices.Sort(events)
	events = slices.Compact(events)
	for _, ev := range events {
		if !shopclip.ValidWebhookEvent(ev) {
			return nil, shopclip.Errorf(shopclip.EINVALID, "Unknown event %q; events are %v.", ev, shopclip.WebhookEvents)
		}
	}
	e := &shopclip.WebhookEndpoint{ID: shopclip.NewID(shopclip.PrefixWebhook), AccountID: accountID,
		URL: url, Events: events, Secret: NewSecret()}
	if err := s.cfg.Store.CreateWebhook(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Get returns account's endpoint id; another account's is not found.
func (s *Service) Get(ctx context.Context, accountID, id string) (*shopclip.WebhookEndpoint, error) {
	if !shopclip.ValidID(shopclip.PrefixWebhook, id) {
		return nil, shopclip.Errorf(shopclip.ENOTFOUND, "Webhook not found.")
	}
	e, err := s.cfg.Store.Webhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.AccountID != accountID {
		return nil, shopclip.Errorf(shopclip.ENOTFOUND, "Webhook not found.")
	}
	return e, nil
}

// List returns account's endpoints.
func (s *Service) List(ctx context.Context, accountID string) ([]*shopclip.WebhookEndpoint, error) {
	return s.cfg.Store.AccountWebhooks(ctx, accountID)
}

// Delete deletes account's endpoint id with its deliveries.
func (s *Service) Delete(ctx context.Context, accountID, id string) error {
	if _, err := s.Get(ctx, accountID, id); err != nil {
		return err
	}
	return s.cfg.Store.DeleteWebhook(ctx, id)
}

// Rotate gives account's endpoint id a new secret, returned with it; the
// current one keeps signing (beside the new) for the rotation overlap.
func (s *Service) Rotate(ctx context.Context, accountID, id string) (*shopclip.WebhookEndpoint, error) {
	e, err := s.Get(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	e.PreviousSecret, e.Secret = e.Secret, NewSecret()
	e.PreviousExpires = s.cfg.Now().Add(s.cfg.RotationOverlap)
	if err := s.cfg.Store.UpdateWebhook(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Enable turns deliveries to account's endpoint id back on after it was
// disabled (its owner fixed the receiver); its failing record starts
// afresh. Deliveries given up meanwhile can be replayed.
func (s *Service) Enable(ctx context.Context, accountID, id string) (*shopclip.WebhookEndpoint, error) {
	e, err := s.Get(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	e.DisabledAt, e.DisabledReason, e.FailingSince = time.Time{}, "", time.Time{}
	if err := s.cfg.Store.SetWebhookHealth(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Deliveries returns the latest deliveries of account's endpoint id, newest
// first, each with its attempts.
func (s *Service) Deliveries(ctx context.Context, accountID, id string, limit int) ([]*shopclip.WebhookDelivery, map[string][]shopclip.WebhookAttempt, error) {
	if _, err := s.Get(ctx, accountID, id); err != nil {
		return nil, nil, err
	}
	ds, err := s.cfg.Store.Deliveries(ctx, id, max(1, min(cmp.Or(limit, 20), MaxDeliveries)))
	if err != nil {
		return nil, nil, err
	}
	attempts := make(map[string][]shopclip.WebhookAttempt, len(ds))
	for _, d := range ds {
		if attempts[d.ID], err = s.cfg.Store.Attempts(ctx, d.ID); err != nil {
			return nil, nil, err
		}
	}
	return ds, attempts, nil
}

// Replay queues delivery d of account's endpoint id once more, with the
// same webhook-id and body. A disabled endpoint's deliveries are not
// replayed (ECONFLICT).
func (s *Service) Replay(ctx context.Context, accountID, id, deliveryID string) (*shopclip.WebhookDelivery, error) {
	e, err := s.Get(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	if !e.DisabledAt.IsZero() {
		return nil, shopclip.Errorf(shopclip.ECONFLICT, "The webhook is disabled: %s", e.DisabledReason)
	}
	d, err := s.delivery(ctx, deliveryID)
	if err != nil {
		return nil, err
	}
	if d.EndpointID != e.ID {
		return nil, shopclip.Errorf(shopclip.ENOTFOUND, "Delivery not found.")
	}
	if err := s.cfg.Queue.EnqueueDelivery(ctx, d.ID, true); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) delivery(ctx context.Context, id string) (*shopclip.WebhookDelivery, error) {
	if !shopclip.ValidID(shopclip.PrefixDelivery, id) {
		return nil, shopclip.Errorf(shopclip.ENOTFOUND, "Delivery not found.")
	}
	return s.cfg.Store.Delivery(ctx, id)
}

// body is what a delivery posts.
type body struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Emit records a delivery of event for every enabled endpoint of
// accountIDs subscribed to it, and queues each. It goes on past a failing
// endpoint and returns the errors met, joined.
func (s *Service) Emit(ctx context.Context, event string, accountIDs []string, data any) error {
	if !shopclip.ValidWebhookEvent(event) {
		return fmt.Errorf("webhooks: emit: unknown event %q", event)
	}
	b, err := json.Marshal(body{Type: event, Timestamp: s.cfg.Now().UTC().Truncate(time.Millisecond), Data: data})
	if err != nil {
		return fmt.Errorf("webhooks: emit %s: %w", event, err)
	}
	var errs []error
	seen := map[string]bool{}
	for _, acc := range accountIDs {
		if acc == "" || seen[acc] {
			continue
		}
		seen[acc] = true
		es, err := s.cfg.Store.AccountWebhooks(ctx, acc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range es {
			if !e.Subscribed(event) || !e.DisabledAt.IsZero() {
				continue
			}
			d := &shopclip.WebhookDelivery{ID: shopclip.NewID(shopclip.PrefixDelivery), EndpointID: e.ID, Type: event, Body: b}
			if err := s.cfg.Store.CreateDelivery(ctx, d); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := s.cfg.Queue.EnqueueDelivery(ctx, d.ID, false); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("webhooks: emit %s: %w", event, err)
	}
	return nil
}

// Outcome is what became of one attempt.
type Outcome int

const (
	Delivered Outcome = iota // the receiver took it
	Retry                    // failed; try again later
	GiveUp                   // failed for good: refused, or the endpoint is gone or disabled
)

// Deliver makes one attempt of delivery id, records it, and updates its
// endpoint's health: the first failure starts FailingSince, a success
// clears it, and a failure DisableAfter past it disables the endpoint with
// the reason. last says no retry follows a failure.
//
// Every failure is retried, 4xx answers included (a receiver that answers
// 401 while its owner deploys the new secret recovers), except a refused
// destination (the SSRF guard), which is given up at once.
func (s *Service) Deliver(ctx context.Context, id string, last bool) (Outcome, error) {
	d, err := s.cfg.Store.Delivery(ctx, id)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return GiveUp, nil // its endpoint was deleted
	} else if err != nil {
		return Retry, err
	}
	e, err := s.cfg.Store.Webhook(ctx, d.EndpointID)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return GiveUp, nil
	} else if err != nil {
		return Retry, err
	}
	log := s.cfg.Logger.With("webhook_id", e.ID, "delivery_id", d.ID, "type", d.Type)
	if !e.DisabledAt.IsZero() {
		a := &shopclip.WebhookAttempt{DeliveryID: d.ID, Error: "not sent: the webhook is disabled: " + e.DisabledReason}
		return GiveUp, s.cfg.Store.RecordAttempt(ctx, a, shopclip.DeliveryFailed)
	}
	// The signature's timestamp is the attempt's (receivers refuse stale
	// ones); the body's is the event's.
	now := s.cfg.Now()
	r := s.cfg.Client.Send(ctx, e.URL, e.Secrets(now), Message{ID: d.ID, Timestamp: now, Body: d.Body})
	a := &shopclip.WebhookAttempt{DeliveryID: d.ID, Status: r.Status, Latency: r.Latency, Excerpt: r.Excerpt}
	if r.Err != nil {
		a.Error = r.Err.Error()
	}
	outcome := Delivered
	status := shopclip.DeliveryDelivered
	switch {
	case r.OK():
	case errors.Is(r.Err, ErrRefused):
		outcome, status = GiveUp, shopclip.DeliveryFailed
	case last:
		outcome, status = GiveUp, shopclip.DeliveryFailed
	default:
		outcome, status = Retry, shopclip.DeliveryPending
	}
	if err := s.cfg.Store.RecordAttempt(ctx, a, status); err != nil {
		return outcome, err
	}
	log.Info("webhook attempt", "status", r.Status, "latency", r.Latency, "outcome", status, "err", a.Error)
	return outcome, s.health(ctx, e, r, now)
}

// health updates e's FailingSince and disables it when it failed too long.
func (s *Service) health(ctx context.Context, e *shopclip.WebhookEndpoint, r Result, now time.Time) error {
	switch {
	case r.OK():
		if e.FailingSince.IsZero() {
			return nil
		}
		e.FailingSince = time.Time{}
	case e.FailingSince.IsZero():
		e.FailingSince = now
	case now.Sub(e.FailingSince) >= s.cfg.DisableAfter:
		why := fmt.Sprintf("HTTP %d", r.Status)
		if r.Err != nil {
			why = r.Err.Error()
		}
		e.DisabledAt = now
		e.DisabledReason = fmt.Sprintf("Every delivery failed since %s; the last: %s.", e.FailingSince.UTC().Format(time.RFC3339), why)
		s.cfg.Logger.Warn("webhook disabled", "webhook_id", e.ID, "reason", e.DisabledReason)
	default:
		return nil
	}
	return s.cfg.Store.SetWebhookHealth(ctx, e)
}
