package chaos

import (
	"encoding/json"
	"os"
	"sync"
	"time"
)

// Upload is one upload the drill made and its answer.
type Upload struct {
	N        int       `json:"n"`
	File     string    `json:"file"`
	Expect   string    `json:"expect,omitempty"` // the media error code it must fail with; "" for a good clip
	Big      bool      `json:"big,omitempty"`
	Sent     time.Time `json:"sent"`
	Answered time.Time `json:"answered"`
	Status   int       `json:"status"` // 0: no answer
	ClipID   string    `json:"clip_id,omitempty"`
	Code     string    `json:"code,omitempty"` // the error code of a refusal
	Err      string    `json:"err,omitempty"`

	// What the poller saw of the clip.
	FirstReady time.Time `json:"first_ready,omitzero"`
	ReadyGen   string    `json:"ready_generation,omitempty"` // the generation first seen ready
	Terminal   bool      `json:"terminal,omitempty"`
	DurationMS int64     `json:"duration_ms,omitempty"`
}

// Accepted reports whether the API accepted the upload (202 with a clip).
func (u *Upload) Accepted() bool { return u.ClipID != "" }

// TagOp is a tag the brand proposed and the creator approved.
type TagOp struct {
	Clip, Product, Tag string
	Sent               time.Time
	ProposeStatus      int
	ApproveStatus      int
	Err                string `json:",omitempty"`
}

// Approved reports whether both requests were acknowledged.
func (t *TagOp) Approved() bool { return t.ProposeStatus == 202 && t.ApproveStatus == 200 }

// PriceOp is a price change (or a product's creation at its first price).
type PriceOp struct {
	Product string
	Price   int64
	Sent    time.Time
	Status  int
	Err     string `json:",omitempty"`
}

// Acked reports whether the API acknowledged the change.
func (p *PriceOp) Acked() bool { return p.Status == 200 || p.Status == 201 }

// DiscountOp is a discount added to a product.
type DiscountOp struct {
	Product, ID string
	Sent        time.Time
	Status      int
	Err         string `json:",omitempty"`
}

// FaultRecord is a fault as it happened.
type FaultRecord struct {
	Kind    FaultKind `json:"kind"`
	Worker  int       `json:"worker"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"` // when the fault was lifted (everything back up)
	Skipped string    `json:"skipped,omitempty"`
	Err     string    `json:"err,omitempty"`
}

// Ledger is every request the drill made, with its answer, and every fault
// it injected. It is safe for concurrent use.
type Ledger struct {
	mu        sync.Mutex
	Uploads   []*Upload
	Tags      []*TagOp
	Prices    []*PriceOp
	Discounts []*DiscountOp
	Faults    []*FaultRecord
	byClip    map[string]*Upload
	tagged    map[string]bool
}

func (l *Ledger) addUpload(u *Upload) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Uploads = append(l.Uploads, u)
	if u.ClipID != "" {
		if l.byClip == nil {
			l.byClip = map[string]*Upload{}
		}
		l.byClip[u.ClipID] = u
	}
}

func (l *Ledger) addTag(t *TagOp) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Tags = append(l.Tags, t)
}

func (l *Ledger) addPrice(p *PriceOp) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Prices = append(l.Prices, p)
}

func (l *Ledger) addDiscount(d *DiscountOp) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Discounts = append(l.Discounts, d)
}

func (l *Ledger) addFault(f *FaultRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Faults = append(l.Faults, f)
}

// pending returns copies of the accepted uploads whose clips have not been
// seen terminal.
func (l *Ledger) pending() []Upload {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Upload
	for _, u := range l.Uploads {
		if u.Accepted() && !u.Terminal {
			out = append(out, *u)
		}
	}
	return out
}

// observe records what the poller saw of a clip at time at.
func (l *Ledger) observe(clipID, status, gen string, durationMS int64, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.byClip[clipID]
	if u == nil {
		return
	}
	switch status {
	case "ready":
		if u.FirstReady.IsZero() {
			u.FirstReady, u.ReadyGen, u.DurationMS = at, gen, durationMS
		}
		u.Terminal = true
	case "failed":
		u.Terminal = true
	}
}

// untaggedReady returns a good clip seen ready and not tagged yet (and its
// duration), while fewer than max clips are tagged; "" when there is none.
func (l *Ledger) untaggedReady(max int) (string, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tagged == nil {
		l.tagged = map[string]bool{}
	}
	if len(l.tagged) >= max {
		return "", 0
	}
	for _, u := range l.Uploads {
		if !u.FirstReady.IsZero() && !l.tagged[u.ClipID] && u.DurationMS >= 200 {
			l.tagged[u.ClipID] = true
			return u.ClipID, u.DurationMS
		}
	}
	return "", 0
}

// WriteFile writes the ledger as JSON.
func (l *Ledger) WriteFile(path string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
