package storefront

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/internal/logctx"
	"github.com/shopclip/shopclip/respcache"
)

// clipJSON is a clip as the API shows it.
type clipJSON struct {
	*shopclip.Clip
	Playback *playbackJSON `json:"playback,omitempty"`
}

type playbackJSON struct {
	HLS        string `json:"hls,omitempty"`
	MP4        string `json:"mp4,omitempty"`
	Poster     string `json:"poster,omitempty"`
	Storyboard string `json:"storyboard,omitempty"` // WebVTT thumbnails for scrubbing
	// Share is an MP4 with the pop-ups burned in, for reposting elsewhere;
	// its URL changes whenever it is re-rendered (prices change).
	Share string `json:"share,omitempty"`
}

func (s *Server) clipJSON(c *shopclip.Clip) clipJSON {
	if c.Renditions == nil {
		c.Renditions = []shopclip.Rendition{}
	}
	out := clipJSON{Clip: c}
	if p := c.PlaybackPaths(); p.HLS != "" {
		out.Playback = &playbackJSON{HLS: s.url(p.HLS), MP4: s.optURL(p.MP4), Poster: s.optURL(p.Poster),
			Storyboard: s.optURL(p.Storyboard), Share: s.optURL(p.Share)}
	}
	return out
}

// createClip streams a multipart upload (fields file and title) to the blob
// store without holding it in memory, records the clip as uploaded and
// enqueues its transcode. With an Idempotency-Key, a repeat of an upload
// (the client's connection dropped before the answer) makes no second clip:
// it answers with the first one, and the header Idempotent-Replayed: true.
func (s *Server) createClip(w http.ResponseWriter, r *http.Request) error {
	acct := account(r)
	key := r.Header.Get("Idempotency-Key")
	if key != "" {
		if !shopclip.ValidIdempotencyKey(key) {
			return shopclip.Errorf(shopclip.EINVALID, "Idempotency-Key must be 1 to %d printable ASCII characters, such as a UUID.", shopclip.MaxIdempotencyKeyLen)
		}
		if s.Idempotency != nil {
			first, err := s.Idempotency.ClipByIdempotencyKey(r.Context(), acct.ID, key)
			if err == nil {
				return s.replayed(w, first)
			} else if shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
				return err
			}
		}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return shopclip.Errorf(shopclip.EUNSUPPORTED, "Upload with Content-Type: multipart/form-data, fields \"file\" and \"title\".")
	}
	if r.ContentLength > s.MaxUploadBytes+formOverhead {
		return s.tooLarge()
	}
	// One of the account's (and the process's) uploads at once, and room
	// in its quotas, before a byte of the body is read.
	leave, err := s.enterUpload(acct)
	if err != nil {
		return err
	}
	defer leave()
	hold, err := s.holdUpload(r.Context(), acct.ID, s.holdSize(r))
	if err != nil {
		return err
	}
	defer s.releaseHold(r.Context(), hold) // the clip, recorded, counts instead
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxUploadBytes+formOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return shopclip.Errorf(shopclip.EINVALID, "Malformed multipart body: %v.", err)
	}

	clip := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: acct.ID}
	clip.OriginalKey = shopclip.OriginalKey(clip.ID)
	var gotFile, gotTitle bool
	var filename string
	stored, committed := false, false
	defer func() {
		if stored && !committed { // failed after storing: keep nothing
			s.deleteBlob(r, clip.OriginalKey)
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			return s.uploadError(err)
		}
		switch part.FormName() {
		case "file":
			if gotFile {
				return shopclip.Errorf(shopclip.EINVALID, "Send one \"file\" per upload.")
			}
			gotFile, filename = true, part.FileName()
			if err := s.storeOriginal(r.Context(), part, clip); err != nil {
				return err
			}
			stored = true
		case "title":
			if gotTitle {
				return shopclip.Errorf(shopclip.EINVALID, "Send one \"title\" per upload.")
			}
			gotTitle = true
			b, err := io.ReadAll(io.LimitReader(part, shopclip.MaxTitleLen+1))
			if err != nil {
				return s.uploadError(err)
			}
			clip.Title = string(b)
		default:
			return shopclip.Errorf(shopclip.EINVALID, "Unknown form field %q: send \"file\" and \"title\".", part.FormName())
		}
	}
	if !gotFile {
		return shopclip.Errorf(shopclip.EINVALID, "The form has no \"file\" field.")
	}
	if !gotTitle {
		clip.Title = shopclip.TitleFromFilename(filename)
	}
	clip.Title = strings.TrimSpace(clip.Title)
	if err := shopclip.ValidateTitle(clip.Title); err != nil {
		return err
	}
	if key != "" && s.Idempotency != nil {
		first, created, err := s.Idempotency.CreateClipOnce(r.Context(), clip, key)
		if err != nil {
			return err
		}
		if !created { // a repeat that raced the first: keep the first
			return s.replayed(w, first)
		}
	} else if err := s.Store.CreateClip(r.Context(), clip); err != nil {
		return err
	}
	committed = true
	s.admitted(r.Context(), clip)
	return writeJSON(w, http.StatusAccepted, s.clipJSON(clip))
}

// admitted counts a recorded upload and queues its transcode.
//
// The clip is recorded: its transcode is queued even when the client hangs
// up now (the request's context is not the queue's), so that an accepted
// upload never waits for the reconciler.
func (s *Server) admitted(ctx context.Context, clip *shopclip.Clip) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ctx = logctx.WithClipID(ctx, clip.ID)
	s.logger().InfoContext(ctx, "upload: clip recorded", "clip_id", clip.ID, "bytes", clip.OriginalSize)
	s.metrics.Uploaded(clip.OriginalSize)
	if err := s.Queue.EnqueueTranscode(ctx, clip.ID); err != nil {
		// Recorded but not enqueued: the reconciler enqueues it later.
		s.logger().WarnContext(ctx, "upload: enqueue transcode", "clip_id", clip.ID, "err", err)
	}
	s.Live.Notify(ctx, clip.CreatorID, clip.ID)
}

// replayed answers a repeated upload with the clip the first one made.
func (s *Server) replayed(w http.ResponseWriter, first *shopclip.Clip) error {
	w.Header().Set("Idempotent-Replayed", "true")
	return writeJSON(w, http.StatusAccepted, s.clipJSON(first))
}

// formOverhead allows for multipart headers and the title around the file.
const formOverhead = 64 << 10

// storeOriginal streams the file part to the blob store, hashing it on the
// way, after checking its first bytes look like a video container.
func (s *Server) storeOriginal(ctx context.Context, part io.Reader, clip *shopclip.Clip) error {
	br := bufio.NewReaderSize(part, 64<<10)
	head, err := br.Peek(1024)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return s.uploadError(err)
	}
	if len(head) == 0 {
		return shopclip.Errorf(shopclip.EINVALID, "The file is empty.")
	}
	if sniffContainer(head) == "" {
		return shopclip.Errorf(shopclip.EUNSUPPORTED, "This file does not look like a video: upload MP4, MOV, WebM, MKV, AVI, MPEG-TS or MPEG-PS (.mpg).")
	}
	sum := sha256.New()
	cr := &countingReader{r: io.TeeReader(br, sum)}
	err = s.Blobs.Put(ctx, clip.OriginalKey, cr, -1, blob.PutOptions{ContentType: "application/octet-stream"})
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.tooLarge()
		}
		if ctx.Err() != nil {
			return shopclip.Errorf(shopclip.EINVALID, "The upload was interrupted.")
		}
		return s.uploadError(err)
	}
	clip.OriginalSize = cr.n
	clip.OriginalSHA256 = hex.EncodeToString(sum.Sum(nil))
	return nil
}

func (s *Server) uploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return s.tooLarge()
	}
	if shopclip.ErrorCode(err) != shopclip.EINTERNAL {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "multipart") {
		return shopclip.Errorf(shopclip.EINVALID, "The upload ended early or the multipart body is malformed.")
	}
	return err
}

func (s *Server) tooLarge() error {
	return shopclip.Errorf(shopclip.ETOOLARGE, "The file is larger than the upload limit of %s.", humanBytes(s.MaxUploadBytes))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// deleteBlob removes key even when r was cancelled (its client went away).
func (s *Server) deleteBlob(r *http.Request, key string) {
	ctx, cancel := cleanupContext(r)
	defer cancel()
	if err := s.Blobs.Delete(ctx, key); err != nil {
		s.logger().WarnContext(r.Context(), "delete blob", "key", key, "err", err)
	}
}

// cleanupContext outlives r's cancellation, for cleanup after a failure.
func cleanupContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
}

// visibleClip loads a clip the caller may see: ready clips are public; others
// only to their creator and admins. Anything else is not found.
func (s *Server) visibleClip(r *http.Request) (*shopclip.Clip, error) {
	id, err := pathID(r, "id", shopclip.PrefixClip, "Clip")
	if err != nil {
		return nil, err
	}
	c, err := s.Store.Clip(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if c.Status != shopclip.ClipReady && !canManageClip(account(r), c) {
		return nil, notFound("Clip", id)
	}
	return c, nil
}

// canManageClip reports whether a may change c: its creator or an admin.
func canManageClip(a *shopclip.Account, c *shopclip.Clip) bool {
	return a != nil && (a.Role == shopclip.RoleAdmin || a.ID == c.CreatorID)
}

func (s *Server) getClip(w http.ResponseWriter, r *http.Request) error {
	c, err := s.visibleClip(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.clipJSON(c))
}

// clipList is a page of a creator's clips.
type clipList struct {
	Clips      []clipJSON `json:"clips"`
	NextCursor *string    `json:"next_cursor"` // null on the last page
}

// listMyClips answers a page of the caller's clips, any status, newest
// first.
func (s *Server) listMyClips(w http.ResponseWriter, r *http.Request) error {
	page, err := pageParam(r, shopclip.PrefixClip)
	if err != nil {
		return err
	}
	clips, err := s.Store.CreatorClips(r.Context(), account(r).ID, page)
	if err != nil {
		return err
	}
	out := make([]clipJSON, 0, len(clips))
	for _, c := range clips {
		out = append(out, s.clipJSON(c))
	}
	return writeJSON(w, http.StatusOK, clipList{Clips: out, NextCursor: nextCursor(page, clips, clipCursor)})
}

// deleteClip removes a clip (its creator or an admin): the database row
// first, so it disappears at once, then its objects.
func (s *Server) deleteClip(w http.ResponseWriter, r *http.Request) error {
	c, err := s.visibleClip(r)
	if err != nil {
		return err
	}
	if !canManageClip(account(r), c) {
		return shopclip.Errorf(shopclip.EFORBIDDEN, "Only the clip's creator can delete it.")
	}
	if err := s.Store.DeleteClip(r.Context(), c.ID); err != nil {
		return err
	}
	s.invalidate(r.Context(), c.ID)
	s.notify(r, c)
	ctx, cancel := cleanupContext(r)
	defer cancel()
	if err := s.Blobs.Delete(ctx, c.OriginalKey); err != nil {
		s.logger().WarnContext(r.Context(), "delete clip: original", "clip_id", c.ID, "err", err)
	}
	if err := s.Blobs.DeletePrefix(ctx, shopclip.ClipPrefix(c.ID)); err != nil {
		s.logger().WarnContext(r.Context(), "delete clip: outputs", "clip_id", c.ID, "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// feedPage is a page of the feed.
type feedPage struct {
	Clips      []clipJSON `json:"clips"`
	NextCursor *string    `json:"next_cursor"` // null on the last page
}

// feed lists ready clips, newest first, with an opaque cursor.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r, 20, 100)
	if err != nil {
		return err
	}
	cur, err := shopclip.ParseFeedCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	a, err := s.Answers.Get(r.Context(), respcache.List, "feed\x00"+cur.String()+"\x00"+strconv.Itoa(limit), func(ctx context.Context) (*respcache.Answer, error) {
		clips, err := s.Store.FeedClips(ctx, cur, limit)
		if err != nil {
			return nil, err
		}
		out := feedPage{Clips: make([]clipJSON, 0, len(clips))}
		for _, c := range clips {
			out.Clips = append(out.Clips, s.clipJSON(c))
		}
		if len(clips) == limit {
			last := clips[len(clips)-1]
			next := shopclip.CursorAfter(last).String()
			out.NextCursor = &next
		}
		return jsonAnswer(out, time.Time{})
	})
	if err != nil {
		return err
	}
	return s.writeAnswer(w, r, a, feedMaxAge)
}

// serveShare serves a clip's share MP4 by the name in its URL: the current
// one, or a replaced one until the worker deletes it, a few minutes after
// the replacement, so a viewer mid-download of the old one is not cut off.
func (s *Server) serveShare(w http.ResponseWriter, r *http.Request) error {
	c, err := s.visibleClip(r)
	if err != nil {
		return err
	}
	name := r.PathValue("file")
	key := shopclip.ClipPrefix(c.ID) + name
	if !shopclip.IsShareKey(c.ID, key) {
		return notFound("Share", name)
	}
	if key != c.ShareKey {
		if _, err := s.Blobs.Stat(r.Context(), key); shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			return notFound("Share", name)
		} else if err != nil {
			return err
		}
	}
	return s.serveObject(w, r, key, "public, max-age=31536000, immutable", "")
}

// serveObject answers with the object under key: a redirect to a presigned
// URL when the store signs, or the bytes with range support.
//
// keep, when set, is the respcache key under which an object that does not
// change (a ready clip's segment or poster) is kept in memory when it is
// small: popular clips' segments are then served without the disk.
func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, key, cacheControl, keep string) error {
	if !s.unsigned.Load() {
		u, err := s.Blobs.SignedURL(r.Context(), key, s.SignedURLTTL)
		switch {
		case err == nil:
			w.Header().Set("Cache-Control", "private, max-age=60")
			http.Redirect(w, r, u, http.StatusFound)
			return nil
		case shopclip.ErrorCode(err) == shopclip.EUNSUPPORTED:
			s.unsigned.Store(true)
		default:
			return err
		}
	}
	if keep != "" {
		a, err := s.Answers.Get(r.Context(), respcache.Clip, keep, func(ctx context.Context) (*respcache.Answer, error) {
			return readSmall(ctx, s.Blobs, key)
		})
		switch {
		case err == nil:
			writeFile(w, r, a, cacheControl, blob.ContentTypeByKey(key))
			return nil
		case shopclip.ErrorCode(err) == shopclip.ENOTFOUND:
			return notFound("Media", path.Base(key))
		case !errors.Is(err, errTooBig):
			return err
		}
	}
	obj, err := s.Blobs.Open(r.Context(), key)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return notFound("Media", path.Base(key))
	} else if err != nil {
		return err
	}
	defer obj.Close()
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("Content-Type", blob.ContentTypeByKey(key))
	http.ServeContent(w, r, "", obj.Info().ModTime, obj)
	return nil
}

// serveMedia serves a file of a clip's published (or publishing)
// generation: playlists from the blob store, with range support; segments,
// MP4 and poster too, or through a presigned URL when the store is S3.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) error {
	// As the clip itself: a clip still processing (playable early) or
	// failed shows to its creator only, who may preview it. A viewer's
	// clip comes from memory when it was read in the last few seconds.
	var c *shopclip.Clip
	var err error
	if account(r) == nil {
		id, perr := pathID(r, "id", shopclip.PrefixClip, "Clip")
		if perr != nil {
			return perr
		}
		c, err = s.readyClipForViewers(r.Context(), id)
	} else {
		c, err = s.visibleClip(r)
	}
	if err != nil {
		return err
	}
	gen, file := r.PathValue("gen"), r.PathValue("file")
	if c.Generation == "" || gen != c.Generation || !blob.ValidKey(file) {
		return notFound("Media", gen+"/"+file)
	}
	key := c.OutputPrefix + file
	if !strings.HasSuffix(file, ".m3u8") {
		keep := ""
		if c.Status == shopclip.ClipReady {
			keep = c.ID + "/" + gen + "/" + file
		}
		return s.serveObject(w, r, key, "public, max-age=31536000, immutable", keep)
	}
	// Playlists always come from the server (a presigned playlist's
	// relative segment URLs would resolve against the object store). A
	// ready clip's are final: they are kept in memory. They change while
	// the clip is processing.
	if c.Status == shopclip.ClipReady {
		a, err := s.Answers.Get(r.Context(), respcache.Clip, c.ID+"/"+gen+"/"+file, func(ctx context.Context) (*respcache.Answer, error) {
			body, err := s.readPlaylist(ctx, key)
			if err != nil {
				return nil, err
			}
			return respcache.NewAnswer(body, time.Time{}), nil
		})
		if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			return notFound("Media", gen+"/"+file)
		} else if err != nil {
			return err
		}
		writeFile(w, r, a, "public, max-age=60", blob.ContentTypeByKey(key))
		return nil
	}
	obj, err := s.Blobs.Open(r.Context(), key)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return notFound("Media", gen+"/"+file)
	} else if err != nil {
		return err
	}
	defer obj.Close()
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", blob.ContentTypeByKey(key))
	http.ServeContent(w, r, "", obj.Info().ModTime, obj)
	return nil
}

// maxKept bounds the media files kept in memory: segments of a few seconds
// and posters; MP4s are streamed from the store.
const maxKept = 2 << 20

// errTooBig says a file is over maxKept.
var errTooBig = errors.New("too big to keep")

// readSmall reads the object at key whole, as an answer, when it is at most
// maxKept bytes; errTooBig otherwise.
func readSmall(ctx context.Context, blobs blob.Store, key string) (*respcache.Answer, error) {
	obj, err := blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	if obj.Info().Size > maxKept {
		return nil, errTooBig
	}
	body, err := io.ReadAll(io.LimitReader(obj, maxKept+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxKept {
		return nil, errTooBig
	}
	return respcache.NewAnswer(body, time.Time{}), nil
}

// maxPlaylist bounds a playlist read into memory: a 10-minute clip's
// media playlist of 2 s segments is about 20 KiB.
const maxPlaylist = 4 << 20

// readPlaylist reads the playlist at key whole.
func (s *Server) readPlaylist(ctx context.Context, key string) ([]byte, error) {
	obj, err := s.Blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	body, err := io.ReadAll(io.LimitReader(obj, maxPlaylist+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxPlaylist {
		return nil, fmt.Errorf("playlist %s: over %d bytes", key, maxPlaylist)
	}
	return body, nil
}
