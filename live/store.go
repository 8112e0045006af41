package live

import (
	"context"
	"sync"

	"github.com/shopclip/shopclip"
)

// Store is a shopclip.Store that notifies the Hub of every change a worker
// makes to a clip's status or progress: the workers run on it unchanged.
type Store struct {
	shopclip.Store
	Hub *Hub

	creators sync.Map // clip ID → creator ID, learned from StartClipAttempt
}

func (s *Store) notify(ctx context.Context, clipID string) {
	creator, ok := s.creators.Load(clipID)
	if !ok {
		c, err := s.Store.Clip(ctx, clipID)
		if err != nil {
			return
		}
		creator = c.CreatorID
	}
	s.Hub.Notify(ctx, creator.(string), clipID)
}

func (s *Store) StartClipAttempt(ctx context.Context, id, attemptID string) (*shopclip.Clip, error) {
	c, err := s.Store.StartClipAttempt(ctx, id, attemptID)
	if err == nil {
		s.creators.Store(id, c.CreatorID)
		s.Hub.Notify(ctx, c.CreatorID, id)
	}
	return c, err
}

func (s *Store) UpdateClipProgress(ctx context.Context, id, attemptID string, progress float64, pub *shopclip.Publication) error {
	err := s.Store.UpdateClipProgress(ctx, id, attemptID, progress, pub)
	if err == nil {
		s.notify(ctx, id)
	}
	return err
}

func (s *Store) PublishClip(ctx context.Context, id, attemptID string, pub *shopclip.Publication) error {
	err := s.Store.PublishClip(ctx, id, attemptID, pub)
	if err == nil {
		s.notify(ctx, id)
		s.creators.Delete(id)
	}
	return err
}

func (s *Store) FailClip(ctx context.Context, id, attemptID string, e *shopclip.Error) error {
	err := s.Store.FailClip(ctx, id, attemptID, e)
	if err == nil {
		s.notify(ctx, id)
		s.creators.Delete(id)
	}
	return err
}
