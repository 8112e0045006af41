package clipform

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestNew reads the streamed form back: the title, then the file under its
// name, byte for byte.
func TestNew(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB: more than a pipe's write
	body, ct := New(bytes.NewReader(data), "clip.mp4", "My clip")
	defer body.Close()
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q: %v", ct, err)
	}
	mr := multipart.NewReader(body, params["boundary"])
	p, err := mr.NextPart()
	if err != nil || p.FormName() != "title" {
		t.Fatalf("first part: %v, %v", p, err)
	}
	if b, _ := io.ReadAll(p); string(b) != "My clip" {
		t.Errorf("title %q", b)
	}
	p, err = mr.NextPart()
	if err != nil || p.FormName() != "file" || p.FileName() != "clip.mp4" {
		t.Fatalf("second part: %v, %v", p, err)
	}
	if b, _ := io.ReadAll(p); !bytes.Equal(b, data) {
		t.Errorf("file: %d bytes back of %d", len(b), len(data))
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("after the file: %v, want the end", err)
	}
}

// TestNewClosedEarly: a body closed before it is read (a refused request)
// stops the copy; a file that fails to read fails the body.
func TestNewClosedEarly(t *testing.T) {
	file := &countingReader{r: bytes.NewReader(make([]byte, 10<<20))}
	body, _ := New(file, "a.mp4", "t")
	body.Close()
	time.Sleep(50 * time.Millisecond)
	if n := file.n.Load(); n >= 10<<20 {
		t.Errorf("the whole file was read (%d bytes) after the body was closed", n)
	}

	broken := errors.New("disk gone")
	body, _ = New(io.MultiReader(strings.NewReader("abc"), errReader{broken}), "a.mp4", "t")
	if _, err := io.ReadAll(body); !errors.Is(err, broken) {
		t.Errorf("reading a form of a failing file: %v, want %v", err, broken)
	}
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
