package storefront

import (
	"cmp"
	"io"
	"net/http"
	"time"
)

// Timeouts bound how long one client can hold a connection, and the
// goroutine and file descriptor behind it, by sending or taking its bytes
// slowly. The route table says which apply (route.bodyClass); the
// http.Server's own ReadHeaderTimeout, ReadTimeout and WriteTimeout cover
// the headers and whatever is not an API route.
type Timeouts struct {
	// Body bounds reading a small request body (JSON), whole. Default 30 s.
	Body time.Duration
	// IdleRead bounds the wait for an upload body's next bytes (POST
	// /v1/clips, tus PATCH, product pictures): an upload may take hours
	// as long as its bytes keep coming. Default 1 min.
	IdleRead time.Duration
	// IdleWrite bounds each write of a response: a client that stops
	// taking a segment, an MP4 or the live stream is cut after it, one
	// that takes it slowly is not. Each write has its own deadline, so the
	// live stream may stay quiet between heartbeats for as long as it
	// likes. Default 1 min.
	IdleWrite time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	t.Body = cmp.Or(t.Body, 30*time.Second)
	t.IdleRead = cmp.Or(t.IdleRead, time.Minute)
	t.IdleWrite = cmp.Or(t.IdleWrite, time.Minute)
	return t
}

// bodyClass is how a route's request body is read.
type bodyClass int

const (
	// smallBody: JSON or nothing; read whole within Timeouts.Body.
	smallBody bodyClass = iota
	// uploadBody: bytes of a file, read with Timeouts.IdleRead between
	// reads.
	uploadBody
	// tusBody: a tus PATCH, whose handler (tusd) moves the read deadline
	// itself, by the same IdleRead (NewUploads), and cuts reads short
	// with it when it stops an upload.
	tusBody
)

// bodyClass derives from the route's spec: a tus PATCH's bytes, other raw
// bytes or a form are uploads, anything else a small body.
func (rt route) bodyClass() bodyClass {
	switch {
	case rt.Spec.Raw == tusContentType:
		return tusBody
	case rt.Spec.Raw != "" || rt.Spec.Form != nil:
		return uploadBody
	}
	return smallBody
}

// tusContentType is the media type of a tus PATCH's body.
const tusContentType = "application/offset+octet-stream"

// deadlines sets the connection's deadlines for serving r on a route of
// class c, and returns w and r wrapped to move them as bytes flow:
//   - a request with no body has no read deadline (a read deadline would
//     cancel the request's context when it passed while the response is
//     still being written, a long MP4 or the live stream);
//   - a small body must arrive whole within Body;
//   - an upload's body may take as long as it takes, but no read waits
//     longer than IdleRead (a tus PATCH's handler sees to it itself);
//   - no write of the response waits longer than IdleWrite.
func (t Timeouts) deadlines(w http.ResponseWriter, r *http.Request, c bodyClass) (http.ResponseWriter, *http.Request) {
	rc := http.NewResponseController(w)
	now := time.Now()
	switch {
	case r.Body == nil || r.Body == http.NoBody:
		rc.SetReadDeadline(time.Time{})
	case c == tusBody:
		rc.SetReadDeadline(now.Add(t.IdleRead))
	case c == uploadBody:
		rc.SetReadDeadline(now.Add(t.IdleRead))
		r2 := *r
		r2.Body = &idleReader{ReadCloser: r.Body, rc: rc, idle: t.IdleRead}
		r = &r2
	default:
		rc.SetReadDeadline(now.Add(t.Body))
	}
	rc.SetWriteDeadline(now.Add(t.IdleWrite))
	return &idleWriter{ResponseWriter: w, rc: rc, idle: t.IdleWrite}, r
}

// idleReader moves the read deadline before each read of a body.
type idleReader struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	r.rc.SetReadDeadline(time.Now().Add(r.idle))
	return r.ReadCloser.Read(p)
}

// idleWriter moves the write deadline before each write of a response.
type idleWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (w *idleWriter) Write(b []byte) (int, error) {
	w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	return w.ResponseWriter.Write(b)
}

// Flush moves the write deadline too: a flush is a write to the client.
func (w *idleWriter) Flush() {
	w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	w.rc.Flush()
}

// FlushError is Flush for http.ResponseController.
func (w *idleWriter) FlushError() error {
	w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	return w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *idleWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
