package storetest

import (
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// RunWebhooks runs the conformance suite of shopclip.Webhooks as subtests
// of t. open must return a new, empty store for the subtest it is given,
// implementing both interfaces and Clocked, and close it when the subtest
// ends.
func RunWebhooks(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.Webhooks)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, w shopclip.Webhooks)
	}{
		{"CreateAndRead", testWebhookCreateAndRead},
		{"CreateRefused", testWebhookCreateRefused},
		{"UpdateRotateDisable", testWebhookUpdate},
		{"DeleteTakesDeliveries", testWebhookDelete},
		{"DeliveriesAndAttempts", testWebhookDeliveries},
		{"UnsentAndPrune", testWebhookUnsentAndPrune},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, w := open(t)
			tt.fn(t, newEnv(t, s), w)
		})
	}
}

func (e *env) webhook(t *testing.T, w shopclip.Webhooks, accountID string, events ...string) *shopclip.WebhookEndpoint {
	t.Helper()
	wh := &shopclip.WebhookEndpoint{ID: shopclip.NewID(shopclip.PrefixWebhook), AccountID: accountID,
		URL: "https://hooks.example.com/" + accountID, Events: events, Secret: "whsec_c2VjcmV0IG9uZQ=="}
	ok(t, "create webhook", w.CreateWebhook(e.ctx, wh))
	return wh
}

func testWebhookCreateAndRead(t *testing.T, e *env, w shopclip.Webhooks) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	brand := e.account(t, shopclip.RoleBrand, "brand")
	at := e.clock.Peek()
	a1 := e.webhook(t, w, alice.ID, shopclip.EventClipReady, shopclip.EventClipFailed)
	if !a1.CreatedAt.Equal(stored(at)) {
		t.Errorf("CreatedAt = %v, want the store's clock %v", a1.CreatedAt, at)
	}
	a2 := e.webhook(t, w, alice.ID, shopclip.EventTagProposed)
	b1 := e.webhook(t, w, brand.ID, shopclip.EventPurchaseAttributed)
	want := *a1
	want.CreatedAt = stored(a1.CreatedAt)
	got, err := w.Webhook(e.ctx, a1.ID)
	ok(t, "webhook", err)
	same(t, "webhook", got, &want)

	list, err := w.AccountWebhooks(e.ctx, alice.ID)
	ok(t, "account webhooks", err)
	if len(list) != 2 || list[0].ID != a1.ID || list[1].ID != a2.ID {
		t.Errorf("alice's webhooks = %v, want [%s %s] oldest first", webhookIDs(list), a1.ID, a2.ID)
	}
	list, err = w.AccountWebhooks(e.ctx, brand.ID)
	ok(t, "account webhooks", err)
	if len(list) != 1 || list[0].ID != b1.ID {
		t.Errorf("brand's webhooks = %v, want [%s]", webhookIDs(list), b1.ID)
	}
	_, err = w.Webhook(e.ctx, shopclip.NewID(shopclip.PrefixWebhook))
	wantCode(t, "missing webhook", err, shopclip.ENOTFOUND)
}

func webhookIDs(es []*shopclip.WebhookEndpoint) []string {
	var s []string
	for _, e := range es {
		s = append(s, e.ID)
	}
	return s
}

func testWebhookCreateRefused(t *testing.T, e *env, w shopclip.Webhooks) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	newWH := func(mod func(*shopclip.WebhookEndpoint)) *shopclip.WebhookEndpoint {
		wh := &shopclip.WebhookEndpoint{ID: shopclip.NewID(shopclip.PrefixWebhook), AccountID: alice.ID,
			URL: "https://x.example/", Events: []string{shopclip.EventClipReady}, Secret: "whsec_eA=="}
		mod(wh)
		return wh
	}
	tests := []struct {
		name string
		mod  func(*shopclip.WebhookEndpoint)
		code string
	}{
		{"unknown event", func(wh *shopclip.WebhookEndpoint) { wh.Events = []string{"clip.exploded"} }, shopclip.EINVALID},
		{"no events", func(wh *shopclip.WebhookEndpoint) { wh.Events = nil }, shopclip.EINVALID},
		{"no secret", func(wh *shopclip.WebhookEndpoint) { wh.Secret = "" }, shopclip.EINVALID},
		{"bad ID", func(wh *shopclip.WebhookEndpoint) { wh.ID = "whk_nope" }, shopclip.EINVALID},
		{"missing account", func(wh *shopclip.WebhookEndpoint) { wh.AccountID = shopclip.NewID(shopclip.PrefixAccount) }, shopclip.ENOTFOUND},
	}
	for _, tt := range tests {
		wantCode(t, tt.name, w.CreateWebhook(e.ctx, newWH(tt.mod)), tt.code)
	}
	for range shopclip.MaxWebhooksPerAccount {
		ok(t, "create", w.CreateWebhook(e.ctx, newWH(func(*shopclip.WebhookEndpoint) {})))
	}
	wantCode(t, "one past the limit", w.CreateWebhook(e.ctx, newWH(func(*shopclip.WebhookEndpoint) {})), shopclip.EINVALID)
	list, err := w.AccountWebhooks(e.ctx, alice.ID)
	ok(t, "account webhooks", err)
	if len(list) != shopclip.MaxWebhooksPerAccount {
		t.Errorf("%d webhooks stored, want %d", len(list), shopclip.MaxWebhooksPerAccount)
	}
}

func testWebhookUpdate(t *testing.T, e *env, w shopclip.Webhooks) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	wh := e.webhook(t, w, alice.ID, shopclip.EventClipReady)
	now := Start.Add(time.Hour).UTC()
	wh.PreviousSecret, wh.Secret = wh.Secret, "whsec_bmV3IG9uZQ=="
	wh.PreviousExpires = now.Add(24 * time.Hour)
	wh.Events = []string{shopclip.EventClipReady, shopclip.EventTagApproved}
	wh.FailingSince = now.Add(-72 * time.Hour)
	wh.DisabledAt = now
	wh.DisabledReason = "failing since …: 500 Internal Server Error"
	ok(t, "update", w.UpdateWebhook(e.ctx, wh))
	// UpdateWebhook leaves the health alone, SetWebhookHealth the rest.
	got, err := w.Webhook(e.ctx, wh.ID)
	ok(t, "webhook", err)
	if !got.FailingSince.IsZero() || !got.DisabledAt.IsZero() || got.DisabledReason != "" {
		t.Errorf("UpdateWebhook wrote the health: failing since %v, disabled %v %q", got.FailingSince, got.DisabledAt, got.DisabledReason)
	}
	stale := *got
	stale.Secret, stale.Events = "whsec_c3RhbGU=", []string{shopclip.EventSaleEnded}
	stale.FailingSince, stale.DisabledAt, stale.DisabledReason = wh.FailingSince, wh.DisabledAt, wh.DisabledReason
	ok(t, "set health", w.SetWebhookHealth(e.ctx, &stale))
	got, err = w.Webhook(e.ctx, wh.ID)
	ok(t, "webhook", err)
	want := *wh
	want.CreatedAt = stored(wh.CreatedAt)
	want.PreviousExpires, want.FailingSince, want.DisabledAt = stored(wh.PreviousExpires), stored(wh.FailingSince), stored(wh.DisabledAt)
	same(t, "updated webhook", got, &want)
	if s := got.Secrets(now); len(s) != 2 || s[0] != wh.Secret || s[1] != wh.PreviousSecret {
		t.Errorf("Secrets during the overlap = %q, want new then previous", s)
	}
	if s := got.Secrets(now.Add(25 * time.Hour)); len(s) != 1 || s[0] != wh.Secret {
		t.Errorf("Secrets after the overlap = %q, want the new only", s)
	}
	// Enabled again: the times go back to zero.
	wh.DisabledAt, wh.DisabledReason, wh.FailingSince = time.Time{}, "", time.Time{}
	ok(t, "re-enable", w.SetWebhookHealth(e.ctx, wh))
	got, err = w.Webhook(e.ctx, wh.ID)
	ok(t, "webhook", err)
	if !got.DisabledAt.IsZero() || !got.FailingSince.IsZero() || got.DisabledReason != "" {
		t.Errorf("re-enabled webhook: disabled %v (%q), failing since %v; want zero", got.DisabledAt, got.DisabledReason, got.FailingSince)
	}
	missing := *wh
	missing.ID = shopclip.NewID(shopclip.PrefixWebhook)
	wantCode(t, "update missing", w.UpdateWebhook(e.ctx, &missing), shopclip.ENOTFOUND)
	wantCode(t, "set health of missing", w.SetWebhookHealth(e.ctx, &missing), shopclip.ENOTFOUND)
}

func (e *env) delivery(t *testing.T, w shopclip.Webhooks, endpointID, typ string) *shopclip.WebhookDelivery {
	t.Helper()
	d := &shopclip.WebhookDelivery{ID: shopclip.NewID(shopclip.PrefixDelivery), EndpointID: endpointID, Type: typ,
		Body: []byte(`{"type":"` + typ + `","timestamp":"2025-06-18T12:30:15Z","data":{"clip_id":"clp_é"}}`)}
	ok(t, "create delivery", w.CreateDelivery(e.ctx, d))
	return d
}

func testWebhookDelete(t *testing.T, e *env, w shopclip.Webhooks) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	wh := e.webhook(t, w, alice.ID, shopclip.EventClipReady)
	keep := e.webhook(t, w, alice.ID, shopclip.EventClipReady)
	d := e.delivery(t, w, wh.ID, shopclip.EventClipReady)
	kept := e.delivery(t, w, keep.ID, shopclip.EventClipReady)
	ok(t, "attempt", w.RecordAttempt(e.ctx, &shopclip.WebhookAttempt{DeliveryID: d.ID, Status: 500}, shopclip.DeliveryPending))
	ok(t, "delete", w.DeleteWebhook(e.ctx, wh.ID))
	_, err := w.Webhook(e.ctx, wh.ID)
	wantCode(t, "deleted webhook", err, shopclip.ENOTFOUND)
	_, err = w.Delivery(e.ctx, d.ID)
	wantCode(t, "its delivery", err, shopclip.ENOTFOUND)
	as, err := w.Attempts(e.ctx, d.ID)
	ok(t, "attempts", err)
	if len(as) != 0 {
		t.Errorf("%d attempts left of a deleted webhook's delivery", len(as))
	}
	_, err = w.Delivery(e.ctx, kept.ID)
	ok(t, "the other webhook's delivery", err)
	wantCode(t, "delete again", w.DeleteWebhook(e.ctx, wh.ID), shopclip.ENOTFOUND)
}

func testWebhookDeliveries(t *testing.T, e *env, w shopclip.Webhooks) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	wh := e.webhook(t, w, alice.ID, shopclip.EventClipReady, shopclip.EventClipFailed)
	var ds []*shopclip.WebhookDelivery
	for _, typ := range []string{shopclip.EventClipReady, shopclip.EventClipFailed, shopclip.EventClipReady} {
		ds = append(ds, e.delivery(t, w, wh.ID, typ))
	}
	got, err := w.Delivery(e.ctx, ds[0].ID)
	ok(t, "delivery", err)
	want := *ds[0]
	want.CreatedAt, want.UpdatedAt = stored(ds[0].CreatedAt), stored(ds[0].UpdatedAt)
	if want.Status != shopclip.DeliveryPending {
		t.Errorf("new delivery status %q, want pending", want.Status)
	}
	same(t, "delivery", got, &want)

	list, err := w.Deliveries(e.ctx, wh.ID, 2)
	ok(t, "deliveries", err)
	if len(list) != 2 || list[0].ID != ds[2].ID || list[1].ID != ds[1].ID {
		t.Errorf("latest 2 deliveries = %d, want [%s %s] newest first", len(list), ds[2].ID, ds[1].ID)
	}

	at := e.clock.Peek()
	a1 := &shopclip.WebhookAttempt{DeliveryID: ds[0].ID, Status: 500, Latency: 1234567 * time.Microsecond,
		Excerpt: "oops – ünïcode"}
	ok(t, "attempt 1", w.RecordAttempt(e.ctx, a1, shopclip.DeliveryPending))
	if !a1.At.Equal(stored(at)) {
		t.Errorf("attempt At = %v, want the store's clock %v", a1.At, at)
	}
	a2 := &shopclip.WebhookAttempt{DeliveryID: ds[0].ID, Error: "dial tcp: connection refused"}
	ok(t, "attempt 2", w.RecordAttempt(e.ctx, a2, shopclip.DeliveryPending))
	a3 := &shopclip.WebhookAttempt{DeliveryID: ds[0].ID, Status: 204, Latency: time.Millisecond}
	ok(t, "attempt 3", w.RecordAttempt(e.ctx, a3, shopclip.DeliveryDelivered))
	as, err := w.Attempts(e.ctx, ds[0].ID)
	ok(t, "attempts", err)
	wantAs := []shopclip.WebhookAttempt{*a1, *a2, *a3}
	for i := range wantAs {
		wantAs[i].At = stored(wantAs[i].At)
	}
	same(t, "attempts", as, wantAs)
	got, err = w.Delivery(e.ctx, ds[0].ID)
	ok(t, "delivery", err)
	if got.Status != shopclip.DeliveryDelivered || got.Attempts != 3 || !got.UpdatedAt.Equal(stored(a3.At)) {
		t.Errorf("after 3 attempts: status %q, attempts %d, updated %v; want delivered, 3, %v", got.Status, got.Attempts, got.UpdatedAt, stored(a3.At))
	}
	wantCode(t, "attempt of a missing delivery", w.RecordAttempt(e.ctx,
		&shopclip.WebhookAttempt{DeliveryID: shopclip.NewID(shopclip.PrefixDelivery)}, shopclip.DeliveryFailed), shopclip.ENOTFOUND)
	wantCode(t, "unknown status", w.RecordAttempt(e.ctx, &shopclip.WebhookAttempt{DeliveryID: ds[1].ID}, "lost"), shopclip.EINVALID)
	err = w.CreateDelivery(e.ctx, &shopclip.WebhookDelivery{ID: shopclip.NewID(shopclip.PrefixDelivery),
		EndpointID: shopclip.NewID(shopclip.PrefixWebhook), Type: shopclip.EventClipReady, Body: []byte(`{}`)})
	wantCode(t, "delivery of a missing webhook", err, shopclip.ENOTFOUND)
	err = w.CreateDelivery(e.ctx, &shopclip.WebhookDelivery{ID: shopclip.NewID(shopclip.PrefixDelivery),
		EndpointID: wh.ID, Type: "clip.exploded", Body: []byte(`{}`)})
	wantCode(t, "unknown type", err, shopclip.EINVALID)
}

func testWebhookUnsentAndPrune(t *testing.T, e *env, w shopclip.Webhooks) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	wh := e.webhook(t, w, alice.ID, shopclip.EventClipReady)
	e.freeze(Start)
	unsent := e.delivery(t, w, wh.ID, shopclip.EventClipReady)
	retrying := e.delivery(t, w, wh.ID, shopclip.EventClipReady)
	done := e.delivery(t, w, wh.ID, shopclip.EventClipReady)
	failed := e.delivery(t, w, wh.ID, shopclip.EventClipReady)
	ok(t, "attempt", w.RecordAttempt(e.ctx, &shopclip.WebhookAttempt{DeliveryID: retrying.ID, Status: 500}, shopclip.DeliveryPending))
	ok(t, "attempt", w.RecordAttempt(e.ctx, &shopclip.WebhookAttempt{DeliveryID: done.ID, Status: 200}, shopclip.DeliveryDelivered))
	ok(t, "attempt", w.RecordAttempt(e.ctx, &shopclip.WebhookAttempt{DeliveryID: failed.ID, Status: 500}, shopclip.DeliveryFailed))
	e.freeze(Start.Add(time.Hour))
	recent := e.delivery(t, w, wh.ID, shopclip.EventClipReady)
	ok(t, "attempt", w.RecordAttempt(e.ctx, &shopclip.WebhookAttempt{DeliveryID: recent.ID, Status: 200}, shopclip.DeliveryDelivered))
	e.freeze(Start.Add(time.Hour + time.Minute))
	late := e.delivery(t, w, wh.ID, shopclip.EventClipReady)

	ds, err := w.UnsentDeliveries(e.ctx, Start.Add(time.Minute), 10)
	ok(t, "unsent", err)
	if len(ds) != 1 || ds[0].ID != unsent.ID {
		t.Errorf("unsent before +1m = %d deliveries, want only %s", len(ds), unsent.ID)
	}
	ds, err = w.UnsentDeliveries(e.ctx, Start.Add(2*time.Hour), 10)
	ok(t, "unsent", err)
	if len(ds) != 2 || ds[0].ID != unsent.ID || ds[1].ID != late.ID {
		t.Errorf("unsent before +2h = %d deliveries, want %s then %s", len(ds), unsent.ID, late.ID)
	}

	n, err := w.DeleteDeliveries(e.ctx, Start.Add(time.Minute), 1)
	ok(t, "delete", err)
	if n != 1 {
		t.Errorf("deleted %d with limit 1, want 1", n)
	}
	n, err = w.DeleteDeliveries(e.ctx, Start.Add(time.Minute), 10)
	ok(t, "delete", err)
	if n != 1 {
		t.Errorf("deleted %d more, want the other finished old one", n)
	}
	for _, d := range []*shopclip.WebhookDelivery{done, failed} {
		_, err := w.Delivery(e.ctx, d.ID)
		wantCode(t, "pruned delivery", err, shopclip.ENOTFOUND)
		as, err := w.Attempts(e.ctx, d.ID)
		ok(t, "attempts", err)
		if len(as) != 0 {
			t.Errorf("pruned delivery kept %d attempts", len(as))
		}
	}
	for _, d := range []*shopclip.WebhookDelivery{unsent, retrying, recent, late} {
		_, err := w.Delivery(e.ctx, d.ID)
		ok(t, "kept delivery", err)
	}
}
