package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// A burst of changes to one clip (a brand placing ten tags, a creator
// approving them, a price edit re-labelling every clip of a product) needs
// one recomputation of its pop-ups, not one per change, and must never miss
// the last change. A clip:tag task reads the database when it starts, so:
//
//   - a task of the clip that is waiting (pending, scheduled or waiting to
//     retry) will read the change: nothing more is needed, and the change
//     adds no task (its ID, TagTaskID, is taken);
//   - a task that is running may have read the database before the change:
//     a follow-up task is enqueued under the next ID (TagTaskID + ":1", …),
//     to start shortly, which the changes after it share while it waits;
//   - a task ID left by a task that failed for good (archived) is freed.
//
// So a clip has at most one waiting task per running one. Should every ID be
// held by a running task, one more task is enqueued without an ID: a spare
// recomputation rather than a lost change.

// tagFollowUps is how many follow-up IDs a clip has besides TagTaskID: the
// running tasks of one clip a burst can meet (TagConcurrency is 2 by
// default) plus one.
const tagFollowUps = 3

// tagFollowUpDelay is how long a follow-up waits, gathering the changes made
// while the running task finishes.
const tagFollowUpDelay = 500 * time.Millisecond

// TagTaskID is the task ID of the waiting clip:tag task of a clip.
func TagTaskID(clipID string) string { return "tag:" + clipID }

// EnqueueTag has a clip's pop-ups recomputed after a change to its tags, or
// to a product or discount it shows, made before the call: see above for how
// bursts share one task.
func (c *Client) EnqueueTag(ctx context.Context, clipID string) error {
	payload, _ := json.Marshal(newPayload(ctx, clipID))
	for n := range tagFollowUps + 1 {
		id := TagTaskID(clipID)
		if n > 0 {
			id = fmt.Sprintf("%s:%d", id, n)
		}
		done, err := c.enqueueTagAs(ctx, clipID, payload, id, n > 0)
		if done || err != nil {
			return err
		}
	}
	info, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeTag, payload), tagOptions()...)
	if err != nil {
		return unavailable("enqueue tag", err)
	}
	c.enqueued(ctx, info, clipID)
	return nil
}

// enqueueTagAs enqueues a clip:tag task with ID id, or finds one waiting
// under it: done is true either way. It is false when a task with the ID is
// running, so the caller tries the next ID.
func (c *Client) enqueueTagAs(ctx context.Context, clipID string, payload []byte, id string, followUp bool) (done bool, err error) {
	opts := append(tagOptions(), asynq.TaskID(id))
	if followUp {
		opts = append(opts, asynq.ProcessIn(tagFollowUpDelay))
	}
	// A task that ends between the enqueue and the look at it frees its
	// ID: try again, a few times.
	for range 3 {
		added, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeTag, payload), opts...)
		if err == nil {
			c.enqueued(ctx, added, clipID)
			return true, nil
		} else if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return false, unavailable("enqueue tag", err)
		}
		info, err := c.insp.GetTaskInfo(QueueTag, id)
		if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		} else if err != nil {
			return false, unavailable("enqueue tag", err)
		}
		switch info.State {
		case asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry, asynq.TaskStateAggregating:
			// It reads the database after the change (and carries the
			// request ID of the change that enqueued it).
			c.log.DebugContext(ctx, "tag task already waiting; it takes this change", "task_id", id, "clip_id", clipID)
			return true, nil
		case asynq.TaskStateActive:
			return false, nil
		default: // archived or completed: its ID is free to take again
			if err := c.insp.DeleteTask(QueueTag, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return false, unavailable("enqueue tag", err)
			}
		}
	}
	return false, nil
}

func tagOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueTag), asynq.MaxRetry(10), asynq.Timeout(5 * time.Minute)}
}
