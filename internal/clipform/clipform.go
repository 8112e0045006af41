// Package clipform writes the body of POST /v1/clips, as the command line
// and the studio send it: a multipart form with the clip's title and its
// file, streamed as it is read. The project's load generators (chaos,
// apibench, ttfp) upload through it.
package clipform

import (
	"io"
	"mime/multipart"
)

// New returns a body streaming a form of title and file (named name) and
// its Content-Type. The body must be read to its end or closed: a request
// that ends before reading it all (a refusal, a dropped connection) closes
// it, and the copy stops. file is read from another goroutine.
func New(file io.Reader, name, title string) (body io.ReadCloser, contentType string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := mw.WriteField("title", title)
		var fw io.Writer
		if err == nil {
			fw, err = mw.CreateFormFile("file", name)
		}
		if err == nil {
			_, err = io.Copy(fw, file)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}
