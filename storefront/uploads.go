package storefront

import (
	"context"
	"net/http"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/upload"
)

// UploadsPath is where the tus endpoint is mounted.
const UploadsPath = "/v1/uploads/"

// tusKey is the idempotency key of the clip a tus upload makes: one
// upload, one clip, however often its finish is retried.
func tusKey(uploadID string) string { return "tus:" + uploadID }

// NewUploads returns the tus service of s's uploads, assembled in backend:
// a finished upload becomes a clip as POST /v1/clips makes one. Set it as
// s.Uploads before calling Handler.
func (s *Server) NewUploads(backend *upload.Backend) (*upload.Service, error) {
	base := UploadsPath
	if s.PublicURL != "" {
		base = s.url(UploadsPath)
	}
	u := &upload.Service{
		Backend:     backend,
		BasePath:    base,
		MaxSize:     s.maxUploadBytes(),
		IdleTimeout: s.Timeouts.withDefaults().IdleRead,
		Finish:      s.finishUpload,
		Finished:    s.finishedUpload,
		ErrorStatus: func(err error) int { return statusOf(shopclip.ErrorCode(err)) },
		Admit:       s.admitUpload,
		Release:     s.releaseHold,
		Logger:      s.logger().With("component", "uploads"),
	}
	return u, u.Init()
}

func (s *Server) maxUploadBytes() int64 {
	if s.MaxUploadBytes > 0 {
		return s.MaxUploadBytes
	}
	return defaultMaxUpload
}

// defaultMaxUpload is MaxUploadBytes' default.
const defaultMaxUpload = 1 << 30

// finishUpload makes the clip of a complete tus upload: the bytes are
// checked and copied to the clip's original, the clip recorded under the
// upload's idempotency key and its transcode queued.
func (s *Server) finishUpload(ctx context.Context, u *upload.Upload) (string, error) {
	if s.Idempotency == nil {
		return "", shopclip.Errorf(shopclip.EUNAVAILABLE, "Resumable uploads are not set up on this server.")
	}
	key := tusKey(u.ID)
	if first, err := s.Idempotency.ClipByIdempotencyKey(ctx, u.Owner, key); err == nil {
		return first.ID, nil
	} else if shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		return "", err
	}
	clip := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: u.Owner, Title: u.Title}
	clip.OriginalKey = shopclip.OriginalKey(clip.ID)
	src, err := u.Open(ctx)
	if err != nil {
		return "", err
	}
	defer src.Close()
	if err := s.storeOriginal(ctx, src, clip); err != nil {
		s.dropOriginal(ctx, clip.OriginalKey)
		return "", err
	}
	if clip.OriginalSize != u.Size {
		s.dropOriginal(ctx, clip.OriginalKey)
		return "", shopclip.Errorf(shopclip.EINTERNAL, "upload %s: copied %d of %d bytes", u.ID, clip.OriginalSize, u.Size)
	}
	first, created, err := s.Idempotency.CreateClipOnce(ctx, clip, key)
	if err != nil || !created {
		s.dropOriginal(ctx, clip.OriginalKey)
		if err != nil {
			return "", err
		}
		return first.ID, nil
	}
	s.admitted(ctx, clip)
	return clip.ID, nil
}

// finishedUpload returns the clip a dropped upload made, and its size.
func (s *Server) finishedUpload(ctx context.Context, owner, uploadID string) (string, int64, error) {
	if s.Idempotency == nil {
		return "", 0, shopclip.Errorf(shopclip.ENOTFOUND, "No such upload.")
	}
	c, err := s.Idempotency.ClipByIdempotencyKey(ctx, owner, tusKey(uploadID))
	if err != nil {
		return "", 0, err
	}
	return c.ID, c.OriginalSize, nil
}

// dropOriginal deletes a copied original that made no clip.
func (s *Server) dropOriginal(ctx context.Context, key string) {
	if err := s.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil {
		s.logger().WarnContext(ctx, "upload: delete original", "key", key, "err", err)
	}
}

// uploadsReady refuses the tus routes on a server without them.
func (s *Server) uploadsReady() error {
	if s.Uploads == nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "Resumable uploads are not set up on this server: use POST /v1/clips.")
	}
	return nil
}

func (s *Server) uploadOptions(w http.ResponseWriter, r *http.Request) error {
	if err := s.uploadsReady(); err != nil {
		return err
	}
	s.Uploads.Options(w, r)
	return nil
}

func (s *Server) createUpload(w http.ResponseWriter, r *http.Request) error {
	if err := s.uploadsReady(); err != nil {
		return err
	}
	s.Uploads.Create(w, r, account(r).ID)
	return nil
}

func (s *Server) headUpload(w http.ResponseWriter, r *http.Request) error {
	if err := s.uploadsReady(); err != nil {
		return err
	}
	s.Uploads.Head(w, r, account(r).ID, r.PathValue("id"))
	return nil
}

func (s *Server) patchUpload(w http.ResponseWriter, r *http.Request) error {
	if err := s.uploadsReady(); err != nil {
		return err
	}
	// The bytes in flight take a place, not the upload: an idle one holds
	// none.
	leave, err := s.enterUpload(account(r))
	if err != nil {
		return err
	}
	defer leave()
	s.Uploads.Patch(w, r, account(r).ID, r.PathValue("id"))
	return nil
}

func (s *Server) deleteUpload(w http.ResponseWriter, r *http.Request) error {
	if err := s.uploadsReady(); err != nil {
		return err
	}
	s.Uploads.Delete(w, r, account(r).ID, r.PathValue("id"))
	return nil
}
