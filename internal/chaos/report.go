package chaos

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Goals lists the goals the report misses, empty when it meets them all:
// nothing lost, published twice, orphaned, left behind or stuck; every
// good clip ready and media failures only for broken inputs; every
// acknowledged tag, price and discount change kept and shown.
func (r *Report) Goals() []string {
	var miss []string
	check := func(n int, what string) {
		if n != 0 {
			miss = append(miss, fmt.Sprintf("%d %s (want 0)", n, what))
		}
	}
	check(r.Lost, "lost")
	check(r.PublishedTwice, "published twice")
	check(r.Orphaned, "orphaned objects")
	check(r.StaleOutputs, "unreferenced outputs of existing clips")
	check(r.IncompleteUploads, "multipart uploads left open")
	check(r.MissingObjects, "rows whose objects are missing")
	check(r.StuckActive, "tasks stuck active")
	check(r.WrongOutcome, "clips with the wrong outcome")
	check(r.TagsLost, "approved tags lost")
	check(r.PricesLost, "price changes lost")
	check(r.DiscountsLost, "discounts lost")
	check(r.StaleTimelines, "stale pop-up timelines")
	if r.GoodReady != r.goodAccepted() {
		miss = append(miss, fmt.Sprintf("%d of %d accepted good clips ready (want all)", r.GoodReady, r.goodAccepted()))
	}
	if r.Accepted == 0 {
		miss = append(miss, "no upload was accepted")
	}
	return miss
}

// goodAccepted counts the good clips that were accepted: those ready plus
// those that are not (lost or failed), derived from the totals.
func (r *Report) goodAccepted() int { return r.goodAcc }

// WriteMarkdown writes the report as Markdown tables.
func (r *Report) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "Drill: %s of load and faults, then %s of grace (at most %s).\n\n", r.Duration, r.GraceUsed.Round(time.Second), r.Grace)
	fmt.Fprintf(w, "| measure | count | goal |\n|---|---:|---|\n")
	row := func(what string, n any, goal string) { fmt.Fprintf(w, "| %s | %v | %s |\n", what, n, goal) }
	row("uploads sent", r.Uploads, "")
	row("refused (no clip made: 4xx/5xx or no answer)", r.Refused, "")
	row("accepted", r.Accepted, "")
	row("ready", r.Ready, "")
	row("good clips ready / good accepted", fmt.Sprintf("%d / %d", r.GoodReady, r.goodAcc), "all")
	row("failed with a media reason", r.FailedMedia, "broken inputs only")
	row("failed otherwise", r.FailedOther, "")
	row("wrong outcome (good failed for media, broken not as expected)", r.WrongOutcome, "0")
	row("lost (accepted, not terminal after the grace)", r.Lost, "0")
	row("published twice", r.PublishedTwice, "0")
	row("removed by the janitor, past its grace (originals / deleted clips / generations / shares)",
		fmt.Sprintf("%d / %d / %d / %d", r.Swept.Originals, r.Swept.DeletedClip, r.Swept.Generations, r.Swept.Shares), "")
	row("orphaned objects (in the bucket, no row) after the janitor", r.Orphaned, "0")
	row("unreferenced outputs of existing clips", r.StaleOutputs, "0")
	row("replaced share MP4s within their 10-minute grace", r.ReplacedShares, "")
	row("multipart uploads left open", r.IncompleteUploads, "0")
	row("rows whose objects are missing", r.MissingObjects, "0")
	row("rows from uploads whose answer never came", r.UnackedRows, "")
	row("tasks stuck active", r.StuckActive, "0")
	row("tasks archived", r.Archived, "")
	row("tags approved / lost", fmt.Sprintf("%d / %d", r.TagsApproved, r.TagsLost), "0 lost")
	row("price changes acknowledged / lost", fmt.Sprintf("%d / %d", r.PricesAcked, r.PricesLost), "0 lost")
	row("discounts acknowledged / lost", fmt.Sprintf("%d / %d", r.DiscountsAcked, r.DiscountsLost), "0 lost")
	row("stale pop-up timelines", r.StaleTimelines, "0")
	row("upload → ready p50 / p99 / max", fmt.Sprintf("%s / %s / %s", secs(r.P50), secs(r.P99), secs(r.Max)), "")
	if len(r.UnexpectedExits) > 0 {
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(r.UnexpectedExits)) {
			parts = append(parts, fmt.Sprintf("%s %d", name, r.UnexpectedExits[name]))
		}
		row("processes that exited by themselves (restarted)", strings.Join(parts, ", "), "")
	}
	fmt.Fprintf(w, "\n| fault | times | recovery: backlog drained | recovery: next upload ready |\n|---|---:|---:|---:|\n")
	for _, rec := range r.Recoveries {
		if rec.Count == 0 {
			fmt.Fprintf(w, "| %s | 0 | skipped: %s | |\n", rec.Kind, rec.Skipped)
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s |\n", rec.Kind, rec.Count, orNever(rec.Drain), orNever(rec.NextReady))
	}
	if len(r.Queues) > 0 {
		fmt.Fprintf(w, "\n| queue | pending | active | scheduled | retry | archived | processed | failed |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, q := range slices.Sorted(maps.Keys(r.Queues)) {
			i := r.Queues[q]
			fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d |\n", q, i.Pending, i.Active, i.Scheduled, i.Retry, i.Archived, i.Processed, i.Failed)
		}
	}
	if len(r.Slowest) > 0 {
		fmt.Fprintf(w, "\nSlowest clips: %s.\n", strings.Join(r.Slowest, "; "))
	}
	if miss := r.Goals(); len(miss) > 0 {
		fmt.Fprintf(w, "\nGoals missed: %s.\n", strings.Join(miss, "; "))
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(w, "\nEvidence:\n")
		for _, p := range r.Problems {
			fmt.Fprintf(w, "- %s\n", p)
		}
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func orNever(d time.Duration) string {
	if d < 0 {
		return "never (within the drill)"
	}
	return secs(d)
}
