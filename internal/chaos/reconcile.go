package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/janitor"
	"github.com/shopclip/shopclip/transcode"
)

// shareGrace is how long workers keep a replaced share MP4 (10 minutes,
// workers.shareGrace) plus two minutes for the task that deletes it.
const shareGrace = 12 * time.Minute

// row is a clip as PostgreSQL holds it.
type row struct {
	ID, Status, ErrorCode, ErrorMessage string
	Generation, OutputPrefix, Original  string
	ShareKey                            string
	Created, Updated                    time.Time
	Published                           *time.Time
	Attempts, Crashes                   int
}

// terminalAt is when the clip reached its terminal status.
func (r *row) terminalAt() time.Time {
	if r.Status == "ready" && r.Published != nil {
		return *r.Published
	}
	return r.Updated
}

// Recovery is how long the system took to recover from the faults of one
// kind (the worst occurrence).
type Recovery struct {
	Kind  FaultKind
	Count int
	// Drain is the time from the fault's end until every upload accepted
	// before that end was terminal; -1 when some never were.
	Drain time.Duration
	// NextReady is the time from the fault's end until the first upload
	// accepted after it was ready; -1 when none was.
	NextReady time.Duration
	Skipped   string
}

// Report is the reconciliation of the ledger against the database, the
// queue and the bucket.
type Report struct {
	Duration, Grace time.Duration
	GraceUsed       time.Duration

	Uploads, Accepted, Refused, RefusedMedia int
	Ready, FailedMedia, FailedOther, Lost    int
	PublishedTwice                           int
	Orphaned                                 int            // objects of clips (or originals) with no row
	Swept                                    janitor.Counts // what the janitor removed before
	StaleOutputs                             int            // objects of a row's clip that it does not reference
	ReplacedShares                           int            // share MP4s replaced less than shareGrace ago
	IncompleteUploads                        int            // multipart uploads left open
	MissingObjects                           int            // rows whose objects are missing
	StuckActive                              int
	Archived                                 int
	UnackedRows                              int // rows no acknowledged upload made

	GoodTotal, GoodReady int
	goodAcc              int // good clips accepted
	WrongOutcome         int // good clips failed for media, broken ones with another outcome

	TagsApproved, TagsLost        int
	PricesAcked, PricesLost       int
	DiscountsAcked, DiscountsLost int
	StaleTimelines                int
	P50, P99, Max                 time.Duration
	Recoveries                    []Recovery
	Slowest                       []string // the slowest clips to become ready
	UnexpectedExits               map[string]int
	Queues                        map[string]*asynq.QueueInfo

	// Problems explains every count that misses its goal, with the clip
	// IDs, keys and tasks behind it.
	Problems []string
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// reconcile builds the report.
func (d *Drill) reconcile(ctx context.Context) (*Report, error) {
	rep := &Report{Duration: d.cfg.Duration, Grace: d.cfg.Grace, GraceUsed: d.graceUsed, UnexpectedExits: map[string]int{}}
	l := d.ledger
	l.mu.Lock()
	defer l.mu.Unlock()

	rows, err := d.clipRows(ctx)
	if err != nil {
		return nil, err
	}
	objects, incomplete, err := d.bucket(ctx)
	if err != nil {
		return nil, err
	}
	rep.IncompleteUploads = len(incomplete)
	for _, k := range incomplete {
		rep.problem("multipart upload left open: %s", k)
	}

	// Uploads and their clips.
	acked := map[string]bool{}
	var latencies []time.Duration
	for _, u := range l.Uploads {
		rep.Uploads++
		if u.Expect == "" {
			rep.GoodTotal++
		}
		if !u.Accepted() {
			rep.Refused++
			if shopclip.IsMediaError(u.Code) {
				rep.RefusedMedia++
				if u.Expect == "" {
					rep.WrongOutcome++
					rep.problem("good upload #%d (%s) refused for media: %s", u.N, u.File, u.Err)
				}
			}
			continue
		}
		rep.Accepted++
		if u.Expect == "" {
			rep.goodAcc++
		}
		acked[u.ClipID] = true
		r := rows[u.ClipID]
		switch {
		case r == nil:
			rep.Lost++
			rep.problem("lost: upload #%d (%s) accepted as %s, no row", u.N, u.File, u.ClipID)
		case r.Status == "ready":
			rep.Ready++
			if u.Expect == "" {
				rep.GoodReady++
			} else {
				rep.WrongOutcome++
				rep.problem("broken upload #%d (%s) is ready as %s, want %s", u.N, u.File, u.ClipID, u.Expect)
			}
			latencies = append(latencies, r.terminalAt().Sub(u.Sent))
			if u.ReadyGen != "" && u.ReadyGen != r.Generation {
				rep.PublishedTwice++
				rep.problem("published twice: %s was ready with generation %s, now %s", u.ClipID, u.ReadyGen, r.Generation)
			}
		case r.Status == "failed" && shopclip.IsMediaError(r.ErrorCode):
			rep.FailedMedia++
			if u.Expect != r.ErrorCode {
				rep.WrongOutcome++
				rep.problem("upload #%d (%s) as %s failed with %s (%q), want %s", u.N, u.File, u.ClipID, r.ErrorCode, r.ErrorMessage, orReady(u.Expect))
			}
		case r.Status == "failed":
			rep.FailedOther++
			rep.problem("upload #%d (%s) as %s failed with %s: %q (attempts %d, crashes %d)", u.N, u.File, u.ClipID, r.ErrorCode, r.ErrorMessage, r.Attempts, r.Crashes)
		default:
			rep.Lost++
			rep.problem("lost: upload #%d (%s) as %s is still %s after the grace (attempts %d, updated %s)", u.N, u.File, u.ClipID, r.Status, r.Attempts, r.Updated.Format(time.TimeOnly))
		}
	}
	for id, r := range rows {
		if !acked[id] {
			rep.UnackedRows++
			if r.Status != "ready" && r.Status != "failed" {
				rep.Lost++
				rep.problem("lost: %s (from an upload whose answer never came) is still %s", id, r.Status)
			}
		}
	}
	rep.P50, rep.P99, rep.Max = percentile(latencies, 50), percentile(latencies, 99), percentile(latencies, 100)
	rep.Slowest = slowest(l.Uploads, rows, 3)

	// Published twice, by the workers' own account.
	published, err := d.publishedCounts()
	if err != nil {
		return nil, err
	}
	for id, n := range published {
		if n > 1 {
			rep.PublishedTwice++
			rep.problem("published twice: the workers logged %d publishes of %s", n, id)
		}
	}

	// The bucket against the rows.
	byClip := map[string][]string{}
	for key := range objects {
		switch {
		case strings.HasPrefix(key, "originals/"):
			id := strings.TrimPrefix(key, "originals/")
			if rows[id] == nil {
				rep.Orphaned++
				rep.problem("orphaned original: %s", key)
			}
		case strings.HasPrefix(key, "clips/"):
			id, _, _ := strings.Cut(strings.TrimPrefix(key, "clips/"), "/")
			byClip[id] = append(byClip[id], key)
		}
	}
	for id, ks := range byClip {
		r := rows[id]
		if r == nil {
			rep.Orphaned += len(ks)
			rep.problem("orphaned: %d objects under %s, no row", len(ks), shopclip.ClipPrefix(id))
			continue
		}
		stale := map[string]int{}
		for _, k := range ks {
			rest := strings.TrimPrefix(k, shopclip.ClipPrefix(id))
			gen, _, nested := strings.Cut(rest, "/")
			switch {
			case nested && gen == r.Generation && r.Status == "ready":
			case !nested && (rest == "overlays.json" || rest == "overlays.vtt"):
			case !nested && k == r.ShareKey:
			case !nested && shopclip.IsShareKey(id, k) && time.Since(objects[k]) < shareGrace:
				// A replaced share MP4, kept for viewers mid-download
				// until its grace is over.
				rep.ReplacedShares++
			case nested:
				stale[gen+"/"]++
			default:
				stale[rest]++
			}
		}
		for what, n := range stale {
			rep.StaleOutputs += n
			rep.problem("unreferenced outputs: %d objects at %s%s (clip %s, generation %q)", n, shopclip.ClipPrefix(id), what, r.Status, r.Generation)
		}
	}
	for id, r := range rows {
		if missing := missingObjects(ctx, d, r, objects); len(missing) > 0 {
			rep.MissingObjects++
			rep.problem("row %s (%s) misses %d objects, e.g. %s", id, r.Status, len(missing), missing[0])
		}
	}

	// The queue.
	if err := d.queueState(ctx, rep, rows); err != nil {
		return nil, err
	}

	// Tags, prices, discounts.
	if err := d.catalogState(ctx, rep); err != nil {
		return nil, err
	}

	rep.Recoveries = recoveries(l, rows)
	for _, p := range d.allProcs() {
		if n := p.unexpectedExits(); n > 0 {
			rep.UnexpectedExits[p.name] = n
		}
	}
	return rep, nil
}

func orReady(code string) string {
	if code == "" {
		return "ready"
	}
	return code
}

func (d *Drill) clipRows(ctx context.Context) (map[string]*row, error) {
	conn, err := pgx.Connect(ctx, d.pg.url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rs, err := conn.Query(ctx, `SELECT id, status, error_code, error_message, generation, output_prefix,
		original_key, share_key, created_at, updated_at, published_at, attempts, crashes FROM clips`)
	if err != nil {
		return nil, fmt.Errorf("chaos: read clips: %w", err)
	}
	defer rs.Close()
	out := map[string]*row{}
	for rs.Next() {
		r := &row{}
		if err := rs.Scan(&r.ID, &r.Status, &r.ErrorCode, &r.ErrorMessage, &r.Generation, &r.OutputPrefix,
			&r.Original, &r.ShareKey, &r.Created, &r.Updated, &r.Published, &r.Attempts, &r.Crashes); err != nil {
			return nil, err
		}
		out[r.ID] = r
	}
	return out, rs.Err()
}

// bucket lists every object key, and the keys of multipart uploads left
// open.
func (d *Drill) bucket(ctx context.Context) (keys map[string]time.Time, incomplete []string, err error) {
	keys = map[string]time.Time{}
	for obj := range d.s3.ListObjects(ctx, d.minio.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			return nil, nil, fmt.Errorf("chaos: list bucket: %w", obj.Err)
		}
		keys[obj.Key] = obj.LastModified
	}
	for up := range d.s3.ListIncompleteUploads(ctx, d.minio.bucket, "", true) {
		if up.Err != nil {
			return nil, nil, fmt.Errorf("chaos: list multipart uploads: %w", up.Err)
		}
		incomplete = append(incomplete, up.Key)
	}
	return keys, incomplete, nil
}

// missingObjects returns the objects row r references that the bucket
// lacks: its original, and for a ready clip its master playlist, every
// playlist it lists and every segment those list.
func missingObjects(ctx context.Context, d *Drill, r *row, keys map[string]time.Time) []string {
	var missing []string
	need := func(k string) bool {
		if _, ok := keys[k]; !ok {
			missing = append(missing, k)
			return false
		}
		return true
	}
	need(r.Original)
	if r.Status != "ready" {
		return missing
	}
	if r.ShareKey != "" {
		need(r.ShareKey)
	}
	prefix := r.OutputPrefix
	if !need(prefix + shopclip.MasterPlaylist) {
		return missing
	}
	read := func(k string) []byte {
		obj, err := d.s3.GetObject(ctx, d.minio.bucket, k, minio.GetObjectOptions{})
		if err != nil {
			return nil
		}
		defer obj.Close()
		b, _ := io.ReadAll(io.LimitReader(obj, 4<<20))
		return b
	}
	master, err := transcode.ParseMasterPlaylist(read(prefix + shopclip.MasterPlaylist))
	if err != nil {
		return append(missing, prefix+shopclip.MasterPlaylist+" (unparsable)")
	}
	var lists []string
	for _, v := range master.Variants {
		lists = append(lists, v.URI)
	}
	for _, m := range master.Media {
		if m.URI != "" {
			lists = append(lists, m.URI)
		}
	}
	for _, uri := range lists {
		if !need(prefix + uri) {
			continue
		}
		mp, err := transcode.ParseMediaPlaylist(read(prefix + uri))
		if err != nil {
			missing = append(missing, prefix+uri+" (unparsable)")
			continue
		}
		dir := path.Dir(uri)
		if mp.Map != "" {
			need(prefix + path.Join(dir, mp.Map))
		}
		for _, s := range mp.Segments {
			need(prefix + path.Join(dir, s.URI))
		}
	}
	return missing
}

var publishedLine = regexp.MustCompile(`msg="transcode: published".*\bclip_id=(\S+)`)

// publishedCounts counts, per clip, the "transcode: published" lines in
// every worker's log.
func (d *Drill) publishedCounts() (map[string]int, error) {
	counts := map[string]int{}
	for _, w := range d.workers {
		f, err := os.Open(w.logPath)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := publishedLine.FindStringSubmatch(sc.Text()); m != nil {
				counts[m[1]]++
			}
		}
		f.Close()
	}
	return counts, nil
}

// queueState reads the queues: tasks active with no live worker (orphaned,
// or a transcode still active for a clip long terminal) are stuck.
func (d *Drill) queueState(ctx context.Context, rep *Report, rows map[string]*row) error {
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: d.redis.addr})
	defer insp.Close()
	queues, err := insp.Queues()
	if err != nil {
		return fmt.Errorf("chaos: queues: %w", err)
	}
	rep.Queues = map[string]*asynq.QueueInfo{}
	for _, q := range queues {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			return fmt.Errorf("chaos: queue %s: %w", q, err)
		}
		rep.Queues[q] = info
		rep.Archived += info.Archived
		if info.Archived > 0 {
			tasks, _ := insp.ListArchivedTasks(q, asynq.PageSize(20))
			for _, t := range tasks {
				rep.problem("archived %s task %s: %s", q, t.ID, t.LastErr)
			}
		}
		active, err := insp.ListActiveTasks(q, asynq.PageSize(100))
		if err != nil {
			return fmt.Errorf("chaos: active tasks of %s: %w", q, err)
		}
		for _, t := range active {
			var p struct {
				ClipID string `json:"clip_id"`
			}
			json.Unmarshal(t.Payload, &p)
			r := rows[p.ClipID]
			doneLongAgo := t.Type == "clip:transcode" && r != nil && (r.Status == "ready" || r.Status == "failed") &&
				time.Since(r.terminalAt()) > time.Minute
			if t.IsOrphaned || doneLongAgo {
				rep.StuckActive++
				rep.problem("stuck active %s task %s (clip %s, orphaned %v, retried %d, last error %q)", q, t.ID, p.ClipID, t.IsOrphaned, t.Retried, t.LastErr)
			}
		}
	}
	return nil
}

// catalogState checks the tag, price and discount changes the API
// acknowledged against the database, and every tagged clip's stored
// pop-up timeline against the products' prices.
func (d *Drill) catalogState(ctx context.Context, rep *Report) error {
	conn, err := pgx.Connect(ctx, d.pg.url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	l := d.ledger
	for _, t := range l.Tags {
		if !t.Approved() {
			continue
		}
		rep.TagsApproved++
		var status string
		err := conn.QueryRow(ctx, `SELECT status FROM tags WHERE id = $1`, t.Tag).Scan(&status)
		if err != nil || status != "active" {
			rep.TagsLost++
			rep.problem("approved tag %s on %s is %q in the database (%v)", t.Tag, t.Clip, status, err)
		}
	}
	prices := map[string]int64{}
	rs, err := conn.Query(ctx, `SELECT id, price_minor FROM products`)
	if err != nil {
		return err
	}
	for rs.Next() {
		var id string
		var p int64
		if err := rs.Scan(&id, &p); err != nil {
			rs.Close()
			return err
		}
		prices[id] = p
	}
	rs.Close()
	// The database must hold the last acknowledged price, or the price of
	// a later change whose answer never came (it may have committed).
	byProduct := map[string][]*PriceOp{}
	for _, p := range l.Prices {
		byProduct[p.Product] = append(byProduct[p.Product], p)
		if p.Acked() {
			rep.PricesAcked++
		}
	}
	for id, ops := range byProduct {
		last := -1
		for i, op := range ops {
			if op.Acked() {
				last = i
			}
		}
		if last < 0 {
			continue
		}
		ok := false
		for _, op := range ops[last:] {
			if op.Acked() || op.Status == 0 || op.Status >= 500 {
				ok = ok || prices[id] == op.Price
			}
		}
		if !ok {
			rep.PricesLost++
			rep.problem("product %s costs %d in the database; the last acknowledged price was %d", id, prices[id], ops[last].Price)
		}
	}
	for _, dop := range l.Discounts {
		if dop.Status != 201 {
			continue
		}
		rep.DiscountsAcked++
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM discounts WHERE id = $1`, dop.ID).Scan(&n); err != nil || n != 1 {
			rep.DiscountsLost++
			rep.problem("acknowledged discount %s of %s is not in the database (%v)", dop.ID, dop.Product, err)
		}
	}
	// Stored timelines: every clip with active tags has overlays.json
	// listing each and priced as the database prices the product.
	trs, err := conn.Query(ctx, `SELECT t.clip_id, t.id, t.product_id FROM tags t JOIN clips c ON c.id = t.clip_id
		WHERE t.status = 'active' AND c.status = 'ready'`)
	if err != nil {
		return err
	}
	want := map[string]map[string]string{} // clip → tag → product
	for trs.Next() {
		var clip, tag, product string
		if err := trs.Scan(&clip, &tag, &product); err != nil {
			trs.Close()
			return err
		}
		if want[clip] == nil {
			want[clip] = map[string]string{}
		}
		want[clip][tag] = product
	}
	trs.Close()
	for clip, tags := range want {
		var tl struct {
			Popups []shopclip.Popup `json:"popups"`
		}
		obj, err := d.s3.GetObject(ctx, d.minio.bucket, shopclip.OverlaysKey(clip, "json"), minio.GetObjectOptions{})
		if err == nil {
			err = json.NewDecoder(obj).Decode(&tl)
			obj.Close()
		}
		if err != nil {
			rep.StaleTimelines++
			rep.problem("clip %s has %d active tags and no readable overlays.json: %v", clip, len(tags), err)
			continue
		}
		seen := map[string]bool{}
		bad := ""
		for _, p := range tl.Popups {
			seen[p.TagID] = true
			if p.Product.PriceMinor != prices[p.Product.ID] {
				bad = fmt.Sprintf("tag %s shows %d, the product costs %d", p.TagID, p.Product.PriceMinor, prices[p.Product.ID])
			}
		}
		for tag := range tags {
			if !seen[tag] {
				bad = fmt.Sprintf("tag %s is missing", tag)
			}
		}
		if bad != "" {
			rep.StaleTimelines++
			rep.problem("stale pop-up timeline of %s: %s", clip, bad)
		}
	}
	return nil
}

// recoveries measures, for each kind of fault, the worst time from a
// fault's end until the uploads accepted before it were all terminal, and
// until the first upload accepted after it was ready.
func recoveries(l *Ledger, rows map[string]*row) []Recovery {
	var out []Recovery
	for _, kind := range Kinds {
		rec := Recovery{Kind: kind}
		for _, f := range l.Faults {
			if f.Kind != kind {
				continue
			}
			if f.Skipped != "" {
				rec.Skipped = f.Skipped
				continue
			}
			rec.Count++
			drain, next := time.Duration(0), time.Duration(-1)
			for _, u := range l.Uploads {
				if !u.Accepted() {
					continue
				}
				r := rows[u.ClipID]
				terminal := r != nil && (r.Status == "ready" || r.Status == "failed")
				if u.Answered.Before(f.End) {
					switch {
					case !terminal:
						drain = -1
					case drain >= 0:
						drain = max(drain, r.terminalAt().Sub(f.End))
					}
				} else if terminal && r.Status == "ready" {
					if d := r.terminalAt().Sub(f.End); next < 0 || d < next {
						next = d
					}
				}
			}
			if rec.Count == 1 {
				rec.Drain, rec.NextReady = drain, next
				continue
			}
			if rec.Drain >= 0 && (drain < 0 || drain > rec.Drain) {
				rec.Drain = drain
			}
			if rec.NextReady >= 0 && (next < 0 || next > rec.NextReady) {
				rec.NextReady = next
			}
		}
		if rec.Count > 0 || rec.Skipped != "" {
			out = append(out, rec)
		}
	}
	return out
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (p*len(s) + 99) / 100
	return s[max(rank-1, 0)]
}

// slowest describes the n accepted clips that took longest to become ready.
func slowest(uploads []*Upload, rows map[string]*row, n int) []string {
	type clip struct {
		u *Upload
		r *row
		d time.Duration
	}
	var cs []clip
	for _, u := range uploads {
		if r := rows[u.ClipID]; u.Accepted() && r != nil && r.Status == "ready" {
			cs = append(cs, clip{u, r, r.terminalAt().Sub(u.Sent)})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].d > cs[j].d })
	var out []string
	for _, c := range cs[:min(n, len(cs))] {
		out = append(out, fmt.Sprintf("%s (upload #%d, %s): ready after %s, %d attempts, accepted at +%s",
			c.u.ClipID, c.u.N, c.u.File, secs(c.d), c.r.Attempts, secs(c.u.Answered.Sub(uploads[0].Sent))))
	}
	return out
}
