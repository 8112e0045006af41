package shopclip

import (
	"context"
	"slices"
	"time"
)

// Webhook event types, as endpoints subscribe to them and as the type of a
// delivery's body.
const (
	EventClipPlayable       = "clip.playable"
	EventClipReady          = "clip.ready"
	EventClipFailed         = "clip.failed"
	EventTagProposed        = "tag.proposed"
	EventTagApproved        = "tag.approved"
	EventTagRejected        = "tag.rejected"
	EventSaleStarted        = "sale.started"
	EventSaleEnded          = "sale.ended"
	EventPurchaseAttributed = "purchase.attributed"
)

// WebhookEvents lists every event type an endpoint may subscribe to.
var WebhookEvents = []string{
	EventClipPlayable, EventClipReady, EventClipFailed,
	EventTagProposed, EventTagApproved, EventTagRejected,
	EventSaleStarted, EventSaleEnded, EventPurchaseAttributed,
}

// ValidWebhookEvent reports whether event is one of WebhookEvents.
func ValidWebhookEvent(event string) bool { return slices.Contains(WebhookEvents, event) }

// ID prefixes of webhooks: endpoints, and deliveries (whose ID is the
// webhook-id a receiver deduplicates by).
const (
	PrefixWebhook  = "whk"
	PrefixDelivery = "msg"
)

// WebhookEndpoint is a URL an account (a creator or a brand) wants events
// delivered to.
type WebhookEndpoint struct {
	ID        string
	AccountID string
	URL       string
	Events    []string // subscribed event types
	// Secret signs deliveries ("whsec_…"). After a rotation the
	// PreviousSecret signs too until PreviousExpires.
	Secret          string
	PreviousSecret  string
	PreviousExpires time.Time
	// FailingSince is when deliveries began failing without a success
	// since; zero while the endpoint is healthy.
	FailingSince time.Time
	// DisabledAt is when deliveries stopped because the endpoint failed
	// too long; zero while enabled. DisabledReason tells its owner why.
	DisabledAt     time.Time
	DisabledReason string
	CreatedAt      time.Time
}

// Secrets returns the secrets that sign a delivery at now, newest first.
func (e *WebhookEndpoint) Secrets(now time.Time) []string {
	s := []string{e.Secret}
	if e.PreviousSecret != "" && now.Before(e.PreviousExpires) {
		s = append(s, e.PreviousSecret)
	}
	return s
}

// Subscribed reports whether e wants event.
func (e *WebhookEndpoint) Subscribed(event string) bool { return slices.Contains(e.Events, event) }

// Delivery states.
const (
	DeliveryPending   = "pending"   // not yet taken by the receiver; attempts go on
	DeliveryDelivered = "delivered" // a 2xx answer
	DeliveryFailed    = "failed"    // given up: out of retries, refused, or the endpoint disabled
)

// WebhookDelivery is one event for one endpoint, attempted until the
// receiver takes it. Its ID is the message's webhook-id, the same on every
// attempt and replay.
type WebhookDelivery struct {
	ID         string
	EndpointID string
	Type       string // the event type
	Body       []byte // the JSON body: {"type", "timestamp", "data"}
	Status     string // DeliveryPending, DeliveryDelivered or DeliveryFailed
	Attempts   int    // how many attempts were made
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// WebhookAttempt is what one attempt to deliver saw.
type WebhookAttempt struct {
	DeliveryID string
	At         time.Time
	Status     int           // the HTTP status; 0 when there was no answer
	Latency    time.Duration // microsecond precision
	Excerpt    string        // the start of the answer's body
	Error      string        // why there was no answer
}

// MaxWebhooksPerAccount bounds an account's endpoints.
const MaxWebhooksPerAccount = 20

// Webhooks stores webhook endpoints, their deliveries and every attempt.
// One implementation (package store) serves SQLite and PostgreSQL;
// store/storetest.RunWebhooks holds both to this contract.
type Webhooks interface {
	// CreateWebhook records e; the store stamps CreatedAt. EINVALID past
	// MaxWebhooksPerAccount, ENOTFOUND when the account is missing.
	CreateWebhook(ctx context.Context, e *WebhookEndpoint) error
	// Webhook returns endpoint id (ENOTFOUND).
	Webhook(ctx context.Context, id string) (*WebhookEndpoint, error)
	// AccountWebhooks returns an account's endpoints, oldest first.
	AccountWebhooks(ctx context.Context, accountID string) ([]*WebhookEndpoint, error)
	// UpdateWebhook writes e's URL, events and secrets (ENOTFOUND).
	UpdateWebhook(ctx context.Context, e *WebhookEndpoint) error
	// SetWebhookHealth writes e's FailingSince, DisabledAt and
	// DisabledReason (ENOTFOUND), apart from UpdateWebhook so that a
	// delivery's outcome never undoes a rotation made meanwhile.
	SetWebhookHealth(ctx context.Context, e *WebhookEndpoint) error
	// DeleteWebhook deletes endpoint id with its deliveries (ENOTFOUND).
	DeleteWebhook(ctx context.Context, id string) error
	// CreateDelivery records d as pending with no attempts; the store
	// stamps CreatedAt and UpdatedAt.
	CreateDelivery(ctx context.Context, d *WebhookDelivery) error
	// Delivery returns delivery id (ENOTFOUND).
	Delivery(ctx context.Context, id string) (*WebhookDelivery, error)
	// Deliveries returns an endpoint's latest deliveries, newest first, at
	// most limit (1..100).
	Deliveries(ctx context.Context, endpointID string, limit int) ([]*WebhookDelivery, error)
	// RecordAttempt appends a to its delivery, counts it, and sets the
	// delivery's status (ENOTFOUND without the delivery). The store stamps
	// a.At.
	RecordAttempt(ctx context.Context, a *WebhookAttempt, status string) error
	// Attempts returns a delivery's attempts, oldest first.
	Attempts(ctx context.Context, deliveryID string) ([]WebhookAttempt, error)
	// UnsentDeliveries returns up to limit (1..1000) pending deliveries
	// never attempted and created before before, oldest first: those whose
	// task was never queued.
	UnsentDeliveries(ctx context.Context, before time.Time, limit int) ([]*WebhookDelivery, error)
	// DeleteDeliveries deletes up to limit (1..10000) delivered or failed
	// deliveries last updated before before, with their attempts, and
	// returns how many.
	DeleteDeliveries(ctx context.Context, before time.Time, limit int) (int, error)
}

// WebhookEmitter announces an event to the webhook endpoints of the accounts
// it concerns (a clip's creator, a tag's creator and brand) that subscribed
// to it. data becomes the body's "data". Emitting records the deliveries and
// queues them; it does not wait for receivers. Callers log an error and go
// on: an event that cannot be announced never fails the work it reports.
type WebhookEmitter interface {
	Emit(ctx context.Context, event string, accountIDs []string, data any) error
}
