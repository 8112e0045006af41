package shopclip

import "context"

// EventBatches records many viewer events in one transaction: one commit,
// one fsync, however many events, so a store takes thousands a second
// where one event a transaction would take hundreds. Each record is
// deduplicated, and its result reported, exactly as Store.RecordEvent
// would have, in the batch's order (a key repeated within a batch records
// its first event only). One implementation (package store) serves SQLite
// and PostgreSQL; store/storetest.RunEventBatches holds both to this
// contract.
type EventBatches interface {
	// RecordEvents records batch. A record that is invalid gets its own
	// Err and the others are recorded; an error returned means none was.
	RecordEvents(ctx context.Context, batch []*EventRecord) error
}

// EventRecord is an event to record with its deduplication key, and,
// once EventBatches.RecordEvents returns, its result.
type EventRecord struct {
	Event     *Event
	DedupeKey string // "" never deduplicates
	// CountClick also adds one to the Clicks of the event's tag, as
	// Store.AddTagClick does (a buy redirect counts every time, even when
	// its event is a duplicate).
	CountClick bool

	// Stored is the event kept under DedupeKey: Event, or the earlier one;
	// Created says whether Event was recorded. Err is the record's own
	// error (EINVALID), when it was refused.
	Stored  *Event
	Created bool
	Err     error
}
