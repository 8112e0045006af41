// Package upload is shopclip's resumable upload endpoint: the tus 1.0
// protocol (https://tus.io/protocols/resumable-upload), served by tusd as a
// library, so that an upload cut by a bad network, a closed laptop or a
// reload goes on from the last byte the server has instead of starting
// over.
//
// Uploads are assembled in a Backend (a local directory for the embedded
// default, S3 multipart uploads for scale-out). When the last byte is in,
// Service.Finish turns the upload into a clip exactly as a simple upload
// does, and the upload's bytes are dropped: the clip's original holds them.
// A client that lost the answer to its last PATCH learns the clip from a
// HEAD, which answers for finished uploads too (Shopclip-Clip-Id).
package upload

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	expslog "golang.org/x/exp/slog"

	"github.com/shopclip/shopclip"
)

// ClipIDHeader names the response header that carries the clip a finished
// upload made, on the last PATCH and on any HEAD after it.
const ClipIDHeader = "Shopclip-Clip-Id"

// Metadata keys: what a client may send in Upload-Metadata, and the owner
// the server records beside them.
const (
	MetaFilename = "filename"
	MetaFiletype = "filetype"
	MetaTitle    = "title"
	metaOwner    = "shopclip_owner"
	metaHold     = "shopclip_hold"
)

// Upload is a complete upload, handed to Service.Finish.
type Upload struct {
	ID       string
	Owner    string // the creator's account ID
	Title    string // validated; from the file's name when none was given
	Filename string
	Size     int64
	// Open reads the uploaded bytes.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Service serves tus uploads. Set the fields, then call Init.
type Service struct {
	Backend *Backend
	// BasePath is where the routes are mounted ("/v1/uploads/").
	BasePath string
	// MaxSize bounds one upload.
	MaxSize int64
	// IdleTimeout bounds the wait for a PATCH body's next bytes (and a
	// write of the answer, twice that): a stalled client is cut, one whose
	// bytes keep coming never is. Default 1 min.
	IdleTimeout time.Duration
	// Finish makes the clip of a complete upload and returns its ID. It is
	// called when the last byte arrives, and again by a HEAD on a complete
	// upload whose clip it did not make (it failed, or its request went
	// away): it must be idempotent for one upload ID. Its errors carry
	// shopclip error codes.
	Finish func(ctx context.Context, u *Upload) (clipID string, err error)
	// Finished returns the clip, and the size of the upload that made it,
	// of an upload that finished and was dropped, or ENOTFOUND.
	Finished func(ctx context.Context, owner, uploadID string) (clipID string, size int64, err error)
	// ErrorStatus maps an error of Finish to its HTTP status.
	ErrorStatus func(error) int
	// Admit, when set, is asked before an upload of size bytes is created
	// for owner: its error refuses the creation (a quota), and the hold it
	// returns is kept with the upload and handed to Release when the
	// upload ends (made its clip, was refused for what it is, or was
	// cancelled). An error with a RetryAfter() time.Duration method
	// answers with a Retry-After header.
	Admit func(ctx context.Context, owner string, size int64) (hold string, err error)
	// Release, when set, is told that the upload a hold was for has ended.
	Release func(ctx context.Context, hold string)
	Logger  *slog.Logger

	h *handler.UnroutedHandler
}

// Init builds the tus handler.
func (s *Service) Init() error {
	if s.Backend == nil || s.Finish == nil || s.Finished == nil {
		return errors.New("upload: Service needs a Backend, Finish and Finished")
	}
	if s.ErrorStatus == nil {
		s.ErrorStatus = func(error) int { return http.StatusInternalServerError }
	}
	h, err := handler.NewUnroutedHandler(handler.Config{
		StoreComposer:             s.Backend.composer,
		BasePath:                  s.BasePath,
		MaxSize:                   s.MaxSize,
		DisableDownload:           true,
		DisableConcatenation:      true,
		Cors:                      &handler.CorsConfig{Disable: true},
		PreUploadCreateCallback:   s.preCreate,
		PreFinishResponseCallback: s.preFinish,
		NetworkTimeout:            cmp.Or(s.IdleTimeout, time.Minute),
		// tusd logs every request, with its own slog; ours logs what
		// matters (internal errors, drops).
		Logger: expslog.New(expslog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	s.h = h
	return nil
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

type ownerKey struct{}

// Options answers tus's discovery request (versions, extensions, the
// largest upload).
func (s *Service) Options(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
}

// Create starts an upload for owner (POST with Upload-Length and
// Upload-Metadata), answering 201 with its Location.
func (s *Service) Create(w http.ResponseWriter, r *http.Request, owner string) {
	r = r.WithContext(context.WithValue(r.Context(), ownerKey{}, owner))
	s.serve(w, r, http.HandlerFunc(s.h.PostFile))
}

// Head tells how much of owner's upload id the server has: Upload-Offset,
// and the clip once it is finished.
func (s *Service) Head(w http.ResponseWriter, r *http.Request, owner, id string) {
	info, err := s.owned(r.Context(), owner, id)
	switch {
	case errors.Is(err, handler.ErrNotFound):
		s.finished(w, r, owner, id)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	case !info.SizeIsDeferred && info.Offset == info.Size:
		// Complete: make the clip if the last PATCH could not.
		clipID, err := s.finish(r.Context(), info)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		complete(w, r, clipID, info.Size)
		return
	}
	s.serve(w, atID(r, id), http.HandlerFunc(s.h.HeadFile))
}

// Patch appends the request's body to owner's upload id at Upload-Offset;
// a wrong offset is refused (409). The PATCH that completes the upload
// answers once the clip is made, with its ID.
func (s *Service) Patch(w http.ResponseWriter, r *http.Request, owner, id string) {
	if _, err := s.owned(r.Context(), owner, id); errors.Is(err, handler.ErrNotFound) {
		s.finished(w, r, owner, id)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serve(w, atID(r, id), http.HandlerFunc(s.h.PatchFile))
}

// Delete cancels owner's upload id and drops what it holds.
func (s *Service) Delete(w http.ResponseWriter, r *http.Request, owner, id string) {
	info, err := s.owned(r.Context(), owner, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	s.serve(sw, atID(r, id), http.HandlerFunc(s.h.DelFile))
	if sw.code == http.StatusNoContent {
		s.release(r.Context(), info)
	}
}

// statusWriter records the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// release hands the hold of the upload info describes to Release.
func (s *Service) release(ctx context.Context, info handler.FileInfo) {
	if hold := info.MetaData[metaHold]; hold != "" && s.Release != nil {
		s.Release(context.WithoutCancel(ctx), hold)
	}
}

// serve runs h behind tusd's protocol checks (Tus-Resumable, OPTIONS). The
// method override header is dropped: routing has already happened.
func (s *Service) serve(w http.ResponseWriter, r *http.Request, h http.Handler) {
	r.Header.Del("X-HTTP-Method-Override")
	s.h.Middleware(h).ServeHTTP(w, r)
}

// atID returns r with its path cut to the upload's ID, the form tusd's
// handlers read it in (http.StripPrefix's).
func atID(r *http.Request, id string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = id, ""
	r2.URL = &u
	return r2
}

// owned loads upload id when owner made it; another account's upload is
// not found.
func (s *Service) owned(ctx context.Context, owner, id string) (handler.FileInfo, error) {
	if !validID(id) {
		return handler.FileInfo{}, handler.ErrNotFound
	}
	up, err := s.Backend.composer.Core.GetUpload(ctx, id)
	if err != nil {
		return handler.FileInfo{}, err
	}
	info, err := up.GetInfo(ctx)
	if err != nil {
		return handler.FileInfo{}, err
	}
	if info.MetaData[metaOwner] != owner {
		return handler.FileInfo{}, handler.ErrNotFound
	}
	return info, nil
}

// validID reports whether id can be an upload ID (tusd makes 32 hex
// digits; S3 adds "+" and the multipart upload's ID), so that no path
// tricks reach a store.
func validID(id string) bool {
	if id == "" || len(id) > 1024 || strings.HasPrefix(id, ".") {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("+-_.=~", c)) {
			return false
		}
	}
	return true
}

// finished answers a HEAD or PATCH for an upload the store no longer holds:
// complete, with its clip, when it made one; else not found.
func (s *Service) finished(w http.ResponseWriter, r *http.Request, owner, id string) {
	clipID, size, err := s.Finished(r.Context(), owner, id)
	if err != nil {
		if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			err = handler.ErrNotFound
		}
		s.fail(w, r, err)
		return
	}
	if r.Method == http.MethodPatch {
		if off, err := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64); err != nil || off != size {
			s.fail(w, r, handler.ErrMismatchOffset)
			return
		}
	}
	complete(w, r, clipID, size)
}

// complete answers a HEAD or PATCH for an upload that made clipID.
func complete(w http.ResponseWriter, r *http.Request, clipID string, size int64) {
	h := w.Header()
	h.Set("Tus-Resumable", "1.0.0")
	h.Set("Cache-Control", "no-store")
	h.Set("Upload-Offset", strconv.FormatInt(size, 10))
	h.Set("Upload-Length", strconv.FormatInt(size, 10))
	h.Set(ClipIDHeader, clipID)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fail writes err: tusd's errors as tusd does, shopclip's as the API's
// JSON errors.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var te handler.Error
	if !errors.As(err, &te) {
		te = s.apiError(r.Context(), err)
	}
	for k, v := range te.HTTPResponse.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Tus-Resumable", "1.0.0")
	w.WriteHeader(te.HTTPResponse.StatusCode)
	if r.Method != http.MethodHead {
		io.WriteString(w, te.HTTPResponse.Body)
	}
}

// apiError turns a shopclip error into a tusd error with the API's JSON
// body, so that tus clients and the studio read the same message.
func (s *Service) apiError(ctx context.Context, err error) handler.Error {
	status := s.ErrorStatus(err)
	code, msg := shopclip.ErrorCode(err), shopclip.ErrorMessage(err)
	if status >= 500 {
		s.logger().ErrorContext(ctx, "upload", "err", err)
	}
	body, _ := json.Marshal(map[string]shopclip.Error{"error": {Code: code, Message: msg}})
	header := handler.HTTPHeader{"Content-Type": "application/json; charset=utf-8"}
	var later interface{ RetryAfter() time.Duration }
	if errors.As(err, &later) {
		header["Retry-After"] = strconv.Itoa(max(1, int(later.RetryAfter().Round(time.Second)/time.Second)))
	} else if status == http.StatusServiceUnavailable {
		header["Retry-After"] = "5"
	}
	return handler.Error{ErrorCode: code, Message: msg, HTTPResponse: handler.HTTPResponse{
		StatusCode: status,
		Body:       string(body) + "\n",
		Header:     header,
	}}
}

// preCreate checks a new upload's length and metadata and records its
// owner. Only the keys it knows are kept.
func (s *Service) preCreate(ev handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
	owner, _ := ev.Context.Value(ownerKey{}).(string)
	up := ev.Upload
	fail := func(err error) (handler.HTTPResponse, handler.FileInfoChanges, error) {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, s.apiError(ev.Context, err)
	}
	switch {
	case owner == "":
		return fail(shopclip.Errorf(shopclip.EUNAUTHORIZED, "Sign in to upload."))
	case up.SizeIsDeferred:
		return fail(shopclip.Errorf(shopclip.EINVALID, "Send Upload-Length: the size of the file must be known when the upload starts."))
	case up.Size == 0:
		return fail(shopclip.Errorf(shopclip.EINVALID, "The file is empty."))
	}
	filename := up.MetaData[MetaFilename]
	if len(filename) > 1024 {
		return fail(shopclip.Errorf(shopclip.EINVALID, "The file's name is longer than 1024 bytes."))
	}
	if ft := up.MetaData[MetaFiletype]; ft != "" && !strings.HasPrefix(ft, "video/") && ft != "application/octet-stream" && ft != "application/mp4" {
		return fail(shopclip.Errorf(shopclip.EUNSUPPORTED, "%q is not a video: upload MP4, MOV, WebM, MKV, AVI or MPEG.", ft))
	}
	title, ok := up.MetaData[MetaTitle]
	if !ok || strings.TrimSpace(title) == "" {
		title = shopclip.TitleFromFilename(filename)
	}
	title = strings.TrimSpace(title)
	if err := shopclip.ValidateTitle(title); err != nil {
		return fail(err)
	}
	meta := handler.MetaData{metaOwner: owner, MetaTitle: title, MetaFilename: filename}
	if ft := up.MetaData[MetaFiletype]; ft != "" {
		meta[MetaFiletype] = ft
	}
	if s.Admit != nil {
		// Last: a refusal above holds nothing. (A creation that fails
		// after this leaves its hold to go stale.)
		hold, err := s.Admit(ev.Context, owner, up.Size)
		if err != nil {
			return fail(err)
		}
		if hold != "" {
			meta[metaHold] = hold
		}
	}
	return handler.HTTPResponse{}, handler.FileInfoChanges{MetaData: meta}, nil
}

// preFinish makes the clip of the upload whose last byte just arrived and
// answers with its ID.
func (s *Service) preFinish(ev handler.HookEvent) (handler.HTTPResponse, error) {
	clipID, err := s.finish(ev.Context, ev.Upload)
	if err != nil {
		var te handler.Error
		if !errors.As(err, &te) {
			err = s.apiError(ev.Context, err)
		}
		return handler.HTTPResponse{}, err
	}
	return handler.HTTPResponse{Header: handler.HTTPHeader{ClipIDHeader: clipID}}, nil
}

// finishTimeout bounds making a clip of an upload: copying it into the blob
// store and recording the clip.
const finishTimeout = 10 * time.Minute

// finish calls Finish for a complete upload, on a context its request's
// end does not cancel (the client may leave as soon as its last byte is
// sent), and then drops the upload's bytes. A file refused for what it is
// (not a video, too large) is dropped too: sending it again cannot help.
func (s *Service) finish(ctx context.Context, info handler.FileInfo) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	u := &Upload{
		ID:       info.ID,
		Owner:    info.MetaData[metaOwner],
		Title:    info.MetaData[MetaTitle],
		Filename: info.MetaData[MetaFilename],
		Size:     info.Size,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			up, err := s.Backend.composer.Core.GetUpload(ctx, info.ID)
			if err != nil {
				return nil, err
			}
			return up.GetReader(ctx)
		},
	}
	clipID, err := s.Finish(ctx, u)
	if err != nil {
		if status := s.ErrorStatus(err); status >= 400 && status < 500 {
			s.drop(ctx, info.ID)
			s.release(ctx, info)
		}
		return "", err
	}
	s.drop(ctx, info.ID)
	s.release(ctx, info)
	return clipID, nil
}

// drop deletes upload id's bytes and record.
func (s *Service) drop(ctx context.Context, id string) {
	if err := s.Backend.terminate(ctx, id); err != nil && !errors.Is(err, handler.ErrNotFound) {
		s.logger().WarnContext(ctx, "upload: drop", "upload_id", id, "err", err)
	}
}
