package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
)

var _ shopclip.Webhooks = (*DB)(nil)

const webhookColumns = `id, account_id, url, events, secret, previous_secret, previous_expires,
	failing_since, disabled_at, disabled_reason, created_at`

// optTime is t as a nullable column: NULL for the zero time.
func (db *DB) optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.ts(t)
}

// optTimeDest scans a nullable time column into *t, the zero time for NULL.
type optTimeDest struct{ t *time.Time }

// Scan implements sql.Scanner.
func (d optTimeDest) Scan(src any) error {
	t, err := scanTime(src)
	if err != nil {
		return err
	}
	*d.t = time.Time{}
	if t != nil {
		*d.t = *t
	}
	return nil
}

func scanWebhook(row interface{ Scan(...any) error }) (*shopclip.WebhookEndpoint, error) {
	var e shopclip.WebhookEndpoint
	var events string
	err := row.Scan(&e.ID, &e.AccountID, &e.URL, &events, &e.Secret, &e.PreviousSecret,
		optTimeDest{&e.PreviousExpires}, optTimeDest{&e.FailingSince}, optTimeDest{&e.DisabledAt},
		&e.DisabledReason, timeDest{&e.CreatedAt})
	e.Events = strings.Fields(events)
	return &e, err
}

func checkWebhook(op string, e *shopclip.WebhookEndpoint) error {
	if e.URL == "" || e.Secret == "" || len(e.Events) == 0 {
		return invalid(op, "A webhook needs a URL, a secret and at least one event.")
	}
	for _, ev := range e.Events {
		if !shopclip.ValidWebhookEvent(ev) {
			return invalid(op, "Unknown webhook event %q.", ev)
		}
	}
	return nil
}

// CreateWebhook records e, counting the account's endpoints in the same
// transaction.
func (db *DB) CreateWebhook(ctx context.Context, e *shopclip.WebhookEndpoint) error {
	const op = "create webhook"
	if !shopclip.ValidID(shopclip.PrefixWebhook, e.ID) {
		return invalid(op, "A webhook needs an ID.")
	}
	if err := checkWebhook(op, e); err != nil {
		return err
	}
	return db.inTx(ctx, op, func(tx txn) error {
		var n int
		lock := `SELECT COUNT(*) FROM accounts WHERE id = ?`
		if db.dialect == Postgres {
			lock = `SELECT COUNT(*) FROM (SELECT id FROM accounts WHERE id = ? FOR UPDATE) a`
		}
		if err := tx.queryRow(ctx, lock, e.AccountID).Scan(&n); err != nil {
			return db.fail(op, "Account", err)
		} else if n == 0 {
			return notFound(op, "Account")
		}
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM webhook_endpoints WHERE account_id = ?`, e.AccountID).Scan(&n); err != nil {
			return db.fail(op, "Webhook", err)
		}
		if n >= shopclip.MaxWebhooksPerAccount {
			return invalid(op, "An account has at most %d webhooks.", shopclip.MaxWebhooksPerAccount)
		}
		e.CreatedAt = db.now()
		_, err := tx.exec(ctx, `INSERT INTO webhook_endpoints (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.AccountID, e.URL, strings.Join(e.Events, " "), e.Secret, e.PreviousSecret,
			db.optTime(e.PreviousExpires), db.optTime(e.FailingSince), db.optTime(e.DisabledAt),
			e.DisabledReason, db.ts(e.CreatedAt))
		if err != nil {
			return db.fail(op, "Webhook", err)
		}
		return nil
	})
}

// Webhook returns endpoint id.
func (db *DB) Webhook(ctx context.Context, id string) (*shopclip.WebhookEndpoint, error) {
	e, err := scanWebhook(db.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("webhook", "Webhook")
	} else if err != nil {
		return nil, db.fail("webhook", "Webhook", err)
	}
	return e, nil
}

// AccountWebhooks returns the account's endpoints, oldest first.
func (db *DB) AccountWebhooks(ctx context.Context, accountID string) ([]*shopclip.WebhookEndpoint, error) {
	const op = "account webhooks"
	rows, err := db.query(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE account_id = ?
		ORDER BY created_at, id LIMIT ?`, accountID, shopclip.MaxWebhooksPerAccount)
	if err != nil {
		return nil, db.fail(op, "Webhook", err)
	}
	defer rows.Close()
	var es []*shopclip.WebhookEndpoint
	for rows.Next() {
		e, err := scanWebhook(rows)
		if err != nil {
			return nil, db.fail(op, "Webhook", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Webhook", err)
	}
	return es, nil
}

// UpdateWebhook writes e's URL, events and secrets.
func (db *DB) UpdateWebhook(ctx context.Context, e *shopclip.WebhookEndpoint) error {
	const op = "update webhook"
	if err := checkWebhook(op, e); err != nil {
		return err
	}
	res, err := db.exec(ctx, `UPDATE webhook_endpoints SET url = ?, events = ?, secret = ?, previous_secret = ?,
		previous_expires = ? WHERE id = ?`,
		e.URL, strings.Join(e.Events, " "), e.Secret, e.PreviousSecret, db.optTime(e.PreviousExpires), e.ID)
	return db.affectedOne(op, "Webhook", res, err)
}

// SetWebhookHealth writes e's failing and disabled fields.
func (db *DB) SetWebhookHealth(ctx context.Context, e *shopclip.WebhookEndpoint) error {
	res, err := db.exec(ctx, `UPDATE webhook_endpoints SET failing_since = ?, disabled_at = ?, disabled_reason = ? WHERE id = ?`,
		db.optTime(e.FailingSince), db.optTime(e.DisabledAt), e.DisabledReason, e.ID)
	return db.affectedOne("set webhook health", "Webhook", res, err)
}

// affectedOne turns an exec's result into ENOTFOUND when it touched no row.
func (db *DB) affectedOne(op, entity string, res sql.Result, err error) error {
	if err != nil {
		return db.fail(op, entity, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.fail(op, entity, err)
	}
	if n == 0 {
		return notFound(op, entity)
	}
	return nil
}

// DeleteWebhook deletes endpoint id; its deliveries and their attempts go
// by cascade.
func (db *DB) DeleteWebhook(ctx context.Context, id string) error {
	res, err := db.exec(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
	return db.affectedOne("delete webhook", "Webhook", res, err)
}

const deliveryColumns = `id, endpoint_id, type, body, status, attempts, created_at, updated_at`

func scanDelivery(row interface{ Scan(...any) error }) (*shopclip.WebhookDelivery, error) {
	var d shopclip.WebhookDelivery
	var body string
	err := row.Scan(&d.ID, &d.EndpointID, &d.Type, &body, &d.Status, &d.Attempts, timeDest{&d.CreatedAt}, timeDest{&d.UpdatedAt})
	d.Body = []byte(body)
	return &d, err
}

// CreateDelivery records d as pending.
func (db *DB) CreateDelivery(ctx context.Context, d *shopclip.WebhookDelivery) error {
	const op = "create delivery"
	if !shopclip.ValidID(shopclip.PrefixDelivery, d.ID) || !shopclip.ValidWebhookEvent(d.Type) || len(d.Body) == 0 {
		return invalid(op, "A delivery needs an ID, a known event type and a body.")
	}
	d.Status, d.Attempts = shopclip.DeliveryPending, 0
	d.CreatedAt = db.now()
	d.UpdatedAt = d.CreatedAt
	_, err := db.exec(ctx, `INSERT INTO webhook_deliveries (`+deliveryColumns+`) VALUES (?, ?, ?, ?, ?, 0, ?, ?)`,
		d.ID, d.EndpointID, d.Type, string(d.Body), d.Status, db.ts(d.CreatedAt), db.ts(d.UpdatedAt))
	if err != nil {
		return db.failRefs(ctx, op, "Delivery", err, ref{"webhook_endpoints", d.EndpointID, "Webhook"})
	}
	return nil
}

// Delivery returns delivery id.
func (db *DB) Delivery(ctx context.Context, id string) (*shopclip.WebhookDelivery, error) {
	d, err := scanDelivery(db.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("delivery", "Delivery")
	} else if err != nil {
		return nil, db.fail("delivery", "Delivery", err)
	}
	return d, nil
}

// Deliveries returns an endpoint's latest deliveries, newest first.
func (db *DB) Deliveries(ctx context.Context, endpointID string, limit int) ([]*shopclip.WebhookDelivery, error) {
	const op = "deliveries"
	rows, err := db.query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE endpoint_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, endpointID, clampLimit(limit, 100))
	if err != nil {
		return nil, db.fail(op, "Delivery", err)
	}
	defer rows.Close()
	var ds []*shopclip.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, db.fail(op, "Delivery", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Delivery", err)
	}
	return ds, nil
}

// RecordAttempt appends a and sets the delivery's status, in one
// transaction.
func (db *DB) RecordAttempt(ctx context.Context, a *shopclip.WebhookAttempt, status string) error {
	const op = "record attempt"
	switch status {
	case shopclip.DeliveryPending, shopclip.DeliveryDelivered, shopclip.DeliveryFailed:
	default:
		return invalid(op, "Unknown delivery status %q.", status)
	}
	return db.inTx(ctx, op, func(tx txn) error {
		a.At = db.now()
		var seq int
		err := tx.queryRow(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, updated_at = ?
			WHERE id = ? RETURNING attempts`, status, db.ts(a.At), a.DeliveryID).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "Delivery")
		} else if err != nil {
			return db.fail(op, "Delivery", err)
		}
		_, err = tx.exec(ctx, `INSERT INTO webhook_attempts (delivery_id, seq, at, status, latency_us, excerpt, error)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.DeliveryID, seq, db.ts(a.At), a.Status, a.Latency.Microseconds(),
			a.Excerpt, a.Error)
		if err != nil {
			return db.fail(op, "Delivery", err)
		}
		return nil
	})
}

// Attempts returns a delivery's attempts, oldest first.
func (db *DB) Attempts(ctx context.Context, deliveryID string) ([]shopclip.WebhookAttempt, error) {
	const op = "attempts"
	rows, err := db.query(ctx, `SELECT at, status, latency_us, excerpt, error FROM webhook_attempts
		WHERE delivery_id = ? ORDER BY seq`, deliveryID)
	if err != nil {
		return nil, db.fail(op, "Delivery", err)
	}
	defer rows.Close()
	var as []shopclip.WebhookAttempt
	for rows.Next() {
		a := shopclip.WebhookAttempt{DeliveryID: deliveryID}
		var us int64
		if err := rows.Scan(timeDest{&a.At}, &a.Status, &us, &a.Excerpt, &a.Error); err != nil {
			return nil, db.fail(op, "Delivery", err)
		}
		a.Latency = time.Duration(us) * time.Microsecond
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Delivery", err)
	}
	return as, nil
}

// UnsentDeliveries returns pending deliveries never attempted, created
// before before.
func (db *DB) UnsentDeliveries(ctx context.Context, before time.Time, limit int) ([]*shopclip.WebhookDelivery, error) {
	const op = "unsent deliveries"
	rows, err := db.query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE status = 'pending' AND attempts = 0 AND updated_at < ? ORDER BY updated_at, id LIMIT ?`,
		db.ts(before), clampLimit(limit, 1000))
	if err != nil {
		return nil, db.fail(op, "Delivery", err)
	}
	defer rows.Close()
	var ds []*shopclip.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, db.fail(op, "Delivery", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Delivery", err)
	}
	return ds, nil
}

// DeleteDeliveries deletes finished deliveries last updated before before;
// their attempts go by cascade.
func (db *DB) DeleteDeliveries(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
		WHERE status <> 'pending' AND updated_at < ? ORDER BY updated_at LIMIT ?)`, db.ts(before), clampLimit(limit, 10000))
	if err != nil {
		return 0, db.fail("delete deliveries", "Delivery", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, db.fail("delete deliveries", "Delivery", err)
	}
	return int(n), nil
}
