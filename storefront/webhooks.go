package storefront

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/shopclip/shopclip"
)

// WebhookService manages the callers' webhook endpoints and is told of the
// events the API makes (tag.proposed, tag.approved, tag.rejected); package
// webhooks implements it (the logic lives there).
type WebhookService interface {
	shopclip.WebhookEmitter
	Create(ctx context.Context, accountID, url string, events []string) (*shopclip.WebhookEndpoint, error)
	List(ctx context.Context, accountID string) ([]*shopclip.WebhookEndpoint, error)
	Get(ctx context.Context, accountID, id string) (*shopclip.WebhookEndpoint, error)
	Delete(ctx context.Context, accountID, id string) error
	Rotate(ctx context.Context, accountID, id string) (*shopclip.WebhookEndpoint, error)
	Enable(ctx context.Context, accountID, id string) (*shopclip.WebhookEndpoint, error)
	// ScheduleSale schedules the announcements of a discount's start and
	// end (sale.started, sale.ended).
	ScheduleSale(ctx context.Context, d *shopclip.Discount) error
	Deliveries(ctx context.Context, accountID, id string, limit int) ([]*shopclip.WebhookDelivery, map[string][]shopclip.WebhookAttempt, error)
	Replay(ctx context.Context, accountID, id, deliveryID string) (*shopclip.WebhookDelivery, error)
}

// webhookInput registers an endpoint.
type webhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// webhookJSON is an endpoint as its owner sees it. Secret is there only in
// the answers to its creation and to a rotation: it is shown once.
type webhookJSON struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret,omitempty"`
	// PreviousSecretExpires is when the secret before the last rotation
	// stops signing; absent when none signs.
	PreviousSecretExpires *time.Time `json:"previous_secret_expires,omitempty"`
	// FailingSince is when deliveries began failing; absent while healthy.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// Disabled: deliveries stopped because the endpoint failed too long;
	// DisabledReason says why.
	Disabled       bool       `json:"disabled"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) webhookJSON(e *shopclip.WebhookEndpoint, withSecret bool) webhookJSON {
	j := webhookJSON{ID: e.ID, URL: e.URL, Events: e.Events, FailingSince: optTime(e.FailingSince),
		Disabled: !e.DisabledAt.IsZero(), DisabledAt: optTime(e.DisabledAt), DisabledReason: e.DisabledReason,
		CreatedAt: e.CreatedAt}
	if e.PreviousSecret != "" && s.now().Before(e.PreviousExpires) {
		j.PreviousSecretExpires = optTime(e.PreviousExpires)
	}
	if withSecret {
		j.Secret = e.Secret
	}
	return j
}

// webhookList is the caller's endpoints.
type webhookList struct {
	Webhooks []webhookJSON `json:"webhooks"`
}

// deliveryJSON is one event for one endpoint with every attempt.
type deliveryJSON struct {
	ID           string          `json:"id"` // the webhook-id
	Type         string          `json:"type"`
	Status       string          `json:"status"` // pending, delivered or failed
	Payload      json.RawMessage `json:"payload"`
	AttemptCount int             `json:"attempt_count"`
	Attempts     []attemptJSON   `json:"attempts"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// attemptJSON is one attempt: the answer's status (0 when none came), how
// long it took, the start of the answer, or why there was none.
type attemptJSON struct {
	At        time.Time `json:"at"`
	Status    int       `json:"status"`
	LatencyMS float64   `json:"latency_ms"`
	Response  string    `json:"response"`
	Error     string    `json:"error,omitempty"`
}

// deliveryList is an endpoint's latest deliveries, newest first.
type deliveryList struct {
	Deliveries []deliveryJSON `json:"deliveries"`
}

// emitTag tells the webhooks of the tag's clip's creator and of its brand
// of event. A failure is logged: the tag's change stands.
func (s *Server) emitTag(r *http.Request, event string, clip *shopclip.Clip, t *shopclip.Tag) {
	if s.Webhooks == nil {
		return
	}
	if err := s.Webhooks.Emit(context.WithoutCancel(r.Context()), event, []string{clip.CreatorID, t.BrandID}, t); err != nil {
		s.logger().WarnContext(r.Context(), "webhooks: emit", "event", event, "clip_id", clip.ID, "err", err)
	}
}

// emitPurchase tells the webhooks of the clip's creator and of the brand
// of a purchase attributed to a clip (purchase.attributed), once: when it
// is first recorded. A failure is logged.
func (s *Server) emitPurchase(r *http.Request, e *shopclip.Event) {
	if s.Webhooks == nil {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	c, err := s.Store.Clip(ctx, e.ClipID)
	if err != nil {
		s.logger().WarnContext(ctx, "webhooks: purchase.attributed: clip", "clip_id", e.ClipID, "err", err)
		return
	}
	data := map[string]any{"event_id": e.ID, "clip_id": e.ClipID, "tag_id": e.TagID, "product_id": e.ProductID,
		"order_id": e.OrderID, "amount_minor": e.AmountMinor, "currency": e.Currency, "at": e.At}
	if err := s.Webhooks.Emit(ctx, shopclip.EventPurchaseAttributed, []string{c.CreatorID, e.BrandID}, data); err != nil {
		s.logger().WarnContext(ctx, "webhooks: emit", "event", shopclip.EventPurchaseAttributed, "clip_id", e.ClipID, "err", err)
	}
}

// scheduleSale schedules the announcements of a new discount. A failure is
// logged: the discount stands.
func (s *Server) scheduleSale(r *http.Request, d *shopclip.Discount) {
	if s.Webhooks == nil {
		return
	}
	if err := s.Webhooks.ScheduleSale(context.WithoutCancel(r.Context()), d); err != nil {
		s.logger().WarnContext(r.Context(), "webhooks: schedule sale", "discount_id", d.ID, "err", err)
	}
}

func (s *Server) webhooksReady() error {
	if s.Webhooks == nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "Webhooks are not set up on this server.")
	}
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.webhooksReady(); err != nil {
		return err
	}
	var in webhookInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	e, err := s.Webhooks.Create(r.Context(), account(r).ID, in.URL, in.Events)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s.webhookJSON(e, true))
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	if err := s.webhooksReady(); err != nil {
		return err
	}
	es, err := s.Webhooks.List(r.Context(), account(r).ID)
	if err != nil {
		return err
	}
	out := webhookList{Webhooks: []webhookJSON{}}
	for _, e := range es {
		out.Webhooks = append(out.Webhooks, s.webhookJSON(e, false))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.webhooksReady(); err != nil {
		return err
	}
	id, err := pathID(r, "id", shopclip.PrefixWebhook, "Webhook")
	if err != nil {
		return err
	}
	e, err := s.Webhooks.Get(r.Context(), account(r).ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.webhookJSON(e, false))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.webhooksReady(); err != nil {
		return err
	}
	id, err := pathID(r, "id", shopclip.PrefixWebhook, "Webhook")
	if err != nil {
		return err
	}
	if err := s.Webhooks.Delete(r.Context(), account(r).ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.webhooksReady(); err != nil {
		return err
	}
	id, err := pathID(r, "id", shopclip.PrefixWebhook, "Webhook")
	if err != nil {
		return err
	}
	e, err := s.Webhooks.Rotate(r.Context(), account(r).ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.webhookJSON(e, true))
}

func (s *Server) enableWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.webhooksReady(); err != nil {
		return err
	}
	id, err := pathID(r, "id", shopclip.PrefixWebhook, "Webhook")
	if err != nil {
		return err
	}
	e, err := s.Webhooks.Enable(r.Context(), account(r).ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.webhookJSON(e, false))
}

func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	if err := s.webhooksReady(); err != nil {
		return err
	}
	id, err := pathID(r, "id", shopclip.PrefixWebhook, "Webhook")
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 20, 100)
	if err != nil {
		return err
	}
	ds, attempts, err := s.Webhooks.Deliveries(r.Context(), account(r).ID, id, limit)
	if err != nil {
		return err
	}
	out := deliveryList{Deliveries: []deliveryJSON{}}
	for _, d := range ds {
		j := deliveryJSON{ID: d.ID, Type: d.Type, Status: d.Status, Payload: json.RawMessage(d.Body),
			AttemptCount: d.Attempts, Attempts: []attemptJSON{}, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
		for _, a := range attempts[d.ID] {
			j.Attempts = append(j.Attempts, attemptJSON{At: a.At, Status: a.Status,
				LatencyMS: float64(a.Latency.Microseconds()) / 1000, Response: a.Excerpt, Error: a.Error})
		}
		out.Deliveries = append(out.Deliveries, j)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request) error {
	if err := s.webhooksReady(); err != nil {
		return err
	}
	id, err := pathID(r, "id", shopclip.PrefixWebhook, "Webhook")
	if err != nil {
		return err
	}
	did, err := pathID(r, "d", shopclip.PrefixDelivery, "Delivery")
	if err != nil {
		return err
	}
	d, err := s.Webhooks.Replay(r.Context(), account(r).ID, id, did)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, deliveryJSON{ID: d.ID, Type: d.Type, Status: d.Status,
		Payload: json.RawMessage(d.Body), AttemptCount: d.Attempts, Attempts: []attemptJSON{},
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt})
}
