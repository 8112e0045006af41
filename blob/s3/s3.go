// Package s3 is the blob backend for MinIO or any S3-compatible object
// storage, through minio-go: shopclip's originals, renditions and overlays
// as objects in one bucket, optionally under a key prefix.
//
// Every call honours its context and is bounded: minio-go retries a request
// at most Config.MaxRetries times (not its default 10), connections time out
// after a few seconds and responses after Config.ResponseTimeout, so a dead
// server fails fast with EUNAVAILABLE instead of hanging. Errors are
// translated once, here: NoSuchKey is ENOTFOUND, a failed If-None-Match
// ECONFLICT, network trouble and 5xx EUNAVAILABLE.
//
// Put with a size of -1 streams the object as a multipart upload, holding one
// part (Config.PartSize) in memory. minio-go aborts the upload when the Put
// fails or its context ends, but not when the process dies: run
// AbortIncompleteUploads as a janitor (MinIO also expires stale uploads
// itself: its api stale_uploads_expiry, 24 hours by default).
package s3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// Defaults for the zero values of Config.
const (
	DefaultPartSize        = 16 << 20
	DefaultMaxRetries      = 3
	DefaultResponseTimeout = 30 * time.Second
)

// MaxSignedURLTTL is the longest a signed URL may live: S3 signatures
// (SigV4) allow no more than seven days.
const MaxSignedURLTTL = 7 * 24 * time.Hour

const (
	minPartSize    = 5 << 20 // S3's smallest part (but the last)
	maxPartSize    = 5 << 30 // S3's largest part
	dialTimeout    = 5 * time.Second
	tlsTimeout     = 5 * time.Second
	keepAlive      = 30 * time.Second
	idleConnsPerHs = 32
)

// Config says where the objects are.
type Config struct {
	// Endpoint is the server's host:port, without a scheme
	// ("127.0.0.1:9000", "s3.eu-west-1.amazonaws.com").
	Endpoint string
	// Region is the bucket's region. Empty lets minio-go ask the server
	// once and cache the answer; MinIO's default is "us-east-1".
	Region string
	// Bucket holds the objects. EnsureBucket creates it.
	Bucket string
	// AccessKey and SecretKey are static credentials.
	AccessKey string
	SecretKey string
	// UseSSL makes the client speak HTTPS.
	UseSSL bool
	// Prefix, when not empty, is put before every key in the bucket, so that
	// several deployments can share one; it must end with "/" ("shopclip/").
	// Keys in Infos do not carry it.
	Prefix string
	// PartSize is the size of the parts of multipart uploads, and so the
	// memory one Put of unknown size holds. Zero means DefaultPartSize
	// (16 MiB); otherwise at least 5 MiB.
	PartSize uint64
	// MaxRetries is how many times a request is attempted (as
	// minio.Options.MaxRetries: 1 means no retry). Zero means
	// DefaultMaxRetries. Only requests whose body can be replayed retry.
	MaxRetries int
	// ResponseTimeout bounds the wait for a response's headers once a
	// request has been sent. Zero means DefaultResponseTimeout (30 s).
	ResponseTimeout time.Duration
}

// Store is a blob.Store in an S3 bucket. It is safe for concurrent use.
type Store struct {
	client   *minio.Client
	bucket   string
	prefix   string
	region   string
	partSize uint64
}

var _ blob.Store = (*Store)(nil)

// New returns a Store for cfg. It does no I/O: see EnsureBucket and Ping.
func New(cfg Config) (*Store, error) {
	switch {
	case cfg.Endpoint == "":
		return nil, shopclip.Errorf(shopclip.EINVALID, "s3: no endpoint given")
	case strings.Contains(cfg.Endpoint, "://"):
		return nil, shopclip.Errorf(shopclip.EINVALID, "s3: endpoint %q must be host:port, without a scheme (see UseSSL)", cfg.Endpoint)
	case cfg.Bucket == "":
		return nil, shopclip.Errorf(shopclip.EINVALID, "s3: no bucket given")
	case cfg.Prefix != "" && !blob.ValidPrefix(cfg.Prefix):
		return nil, shopclip.Errorf(shopclip.EINVALID, "s3: prefix %q must be a valid key followed by \"/\"", cfg.Prefix)
	case cfg.PartSize != 0 && (cfg.PartSize < minPartSize || cfg.PartSize > maxPartSize):
		return nil, shopclip.Errorf(shopclip.EINVALID, "s3: part size %d is outside [5 MiB, 5 GiB]", cfg.PartSize)
	case cfg.MaxRetries < 0 || cfg.ResponseTimeout < 0:
		return nil, shopclip.Errorf(shopclip.EINVALID, "s3: negative MaxRetries or ResponseTimeout")
	}
	cfg.PartSize = cmp.Or(cfg.PartSize, DefaultPartSize)
	cfg.MaxRetries = cmp.Or(cfg.MaxRetries, DefaultMaxRetries)
	cfg.ResponseTimeout = cmp.Or(cfg.ResponseTimeout, DefaultResponseTimeout)

	tr, err := minio.DefaultTransport(cfg.UseSSL)
	if err != nil {
		return nil, fmt.Errorf("s3: transport: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive}).DialContext
	tr.TLSHandshakeTimeout = tlsTimeout
	tr.ResponseHeaderTimeout = cfg.ResponseTimeout
	tr.MaxIdleConnsPerHost = idleConnsPerHs

	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.UseSSL,
		Transport:  tr,
		Region:     cfg.Region,
		MaxRetries: cfg.MaxRetries,
	})
	if err != nil {
		return nil, shopclip.Errorf(shopclip.EINVALID, "s3: client for %q: %v", cfg.Endpoint, err)
	}
	client.SetAppInfo("shopclip", "1")
	return &Store{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix, region: cfg.Region, partSize: cfg.PartSize}, nil
}

// EnsureBucket creates the bucket if it does not exist. It is idempotent and
// tolerates a concurrent creator.
func (s *Store) EnsureBucket(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3: bucket %q: %w", s.bucket, s.translate(ctx, err))
	} else if exists {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: s.region})
	switch minio.ToErrorResponse(err).Code {
	case minio.BucketAlreadyOwnedByYou, minio.BucketAlreadyExists:
		// Someone created it meanwhile; make sure it is ours to use.
		if exists, err = s.client.BucketExists(ctx, s.bucket); err == nil && !exists {
			err = fmt.Errorf("bucket still missing after %s", minio.BucketAlreadyExists)
		}
	}
	if err != nil {
		return fmt.Errorf("s3: create bucket %q: %w", s.bucket, s.translate(ctx, err))
	}
	return nil
}

func (s *Store) name(key string) string { return s.prefix + key }

func (s *Store) info(oi minio.ObjectInfo) blob.Info {
	return blob.Info{
		Key:         strings.TrimPrefix(oi.Key, s.prefix),
		Size:        oi.Size,
		ModTime:     oi.LastModified,
		ContentType: oi.ContentType,
	}
}

// Put implements blob.Store. Without opts.ContentType the object is stored
// with blob.ContentTypeByKey(key). IfNotExists sends If-None-Match: *.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, opts blob.PutOptions) error {
	if !blob.ValidKey(key) {
		return fmt.Errorf("s3: put: %w", blob.InvalidKey(key))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: put %q: %w", key, blob.CtxError(err))
	}
	po := minio.PutObjectOptions{ContentType: opts.ContentType, PartSize: s.partSize}
	if po.ContentType == "" {
		po.ContentType = blob.ContentTypeByKey(key)
	}
	if opts.IfNotExists {
		po.SetMatchETagExcept("*")
	}
	sr := &sizedReader{ctx: ctx, r: r, size: size}
	if size == 0 {
		// minio-go may not read an empty body at all: look for a byte
		// the caller did not declare before sending anything.
		sr.checkEnd()
		if sr.err != nil {
			return fmt.Errorf("s3: put %q: %w", key, sr.err)
		}
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.name(key), sr, size, po)
	if err != nil {
		if sr.err != nil {
			// Our reader failed the upload: a size mismatch, the
			// caller's reader, or the context; say that, not how
			// minio-go reported it.
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("s3: put %q: %w", key, blob.CtxError(cerr))
			}
			return fmt.Errorf("s3: put %q: %w", key, sr.err)
		}
		return fmt.Errorf("s3: put %q: %w", key, s.translate(ctx, err))
	}
	return nil
}

// Open implements blob.Store. The object is the *minio.Object (seeks become
// ranged GETs); a missing key fails here, not at the first Read. Reads use
// ctx: the object is readable until ctx ends.
//
// Reads fetch the version Open found (If-Match on its ETag): when the key is
// overwritten while the object is open, a read that needs a new request
// fails with ECONFLICT (ENOTFOUND when deleted) rather than mixing versions.
// S3 without versioning keeps no old version to read on, as a file would.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	if !blob.ValidKey(key) {
		return nil, fmt.Errorf("s3: open: %w", blob.InvalidKey(key))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3: open %q: %w", key, blob.CtxError(err))
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.name(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("s3: open %q: %w", key, s.translate(ctx, err))
	}
	oi, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, fmt.Errorf("s3: open %q: %w", key, s.translate(ctx, err))
	}
	return &object{s: s, ctx: ctx, obj: obj, info: s.info(oi)}, nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if !blob.ValidKey(key) {
		return blob.Info{}, fmt.Errorf("s3: stat: %w", blob.InvalidKey(key))
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, fmt.Errorf("s3: stat %q: %w", key, blob.CtxError(err))
	}
	oi, err := s.client.StatObject(ctx, s.bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3: stat %q: %w", key, s.translate(ctx, err))
	}
	return s.info(oi), nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if !blob.ValidKey(key) {
		return fmt.Errorf("s3: delete: %w", blob.InvalidKey(key))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: delete %q: %w", key, blob.CtxError(err))
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.name(key), minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("s3: delete %q: %w", key, s.translate(ctx, err))
	}
	return nil
}

// List implements blob.Store. S3 listings carry no content type: the Infos
// List returns have an empty ContentType (Stat has it).
func (s *Store) List(ctx context.Context, prefix string) ([]blob.Info, error) {
	if !blob.ValidListPrefix(prefix) {
		return nil, fmt.Errorf("s3: list: %w", shopclip.Errorf(shopclip.EINVALID, "blob: invalid prefix %q", prefix))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3: list %q: %w", prefix, blob.CtxError(err))
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	infos := []blob.Info{}
	var lerr error
	// The channel must be drained to its end, even after an error, or
	// minio-go's lister goroutine leaks.
	for oi := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: s.name(prefix), Recursive: true}) {
		if lerr != nil {
			continue
		}
		if oi.Err != nil {
			lerr = oi.Err
			cancel()
			continue
		}
		info := s.info(oi)
		if !blob.ValidKey(info.Key) {
			continue // not one of ours ("dir/" markers other tools make)
		}
		infos = append(infos, info)
	}
	if lerr != nil {
		return nil, fmt.Errorf("s3: list %q: %w", prefix, s.translate(ctx, lerr))
	}
	// S3 lists in UTF-8 binary order, which is Go's string order; sort
	// anyway, as the contract promises it of every server.
	slices.SortFunc(infos, func(a, b blob.Info) int { return strings.Compare(a.Key, b.Key) })
	return infos, nil
}

// DeletePrefix implements blob.Store: it streams the listing of prefix into
// multi-object deletes (1000 keys a request).
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" || !blob.ValidPrefix(prefix) {
		return fmt.Errorf("s3: delete prefix: %w", shopclip.Errorf(shopclip.EINVALID, "blob: invalid prefix %q", prefix))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: delete prefix %q: %w", prefix, blob.CtxError(err))
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listed := s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: s.name(prefix), Recursive: true})
	objects := make(chan minio.ObjectInfo)
	listErr := make(chan error, 1)
	go func() {
		defer close(objects)
		var lerr error
		for oi := range listed { // drained to its end, see List
			switch {
			case lerr != nil:
			case oi.Err != nil:
				lerr = oi.Err
				cancel()
			default:
				select {
				case objects <- oi:
				case <-lctx.Done():
					lerr = lctx.Err()
				}
			}
		}
		listErr <- lerr
	}()
	var rerr error
	for e := range s.client.RemoveObjects(lctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		if rerr == nil && e.Err != nil {
			rerr = fmt.Errorf("%s: %w", e.ObjectName, e.Err)
			cancel()
		}
	}
	cancel()
	lerr := <-listErr
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("s3: delete prefix %q: %w", prefix, blob.CtxError(ctx.Err()))
	case rerr != nil:
		return fmt.Errorf("s3: delete prefix %q: %w", prefix, s.translate(ctx, rerr))
	case lerr != nil && !errors.Is(lerr, context.Canceled):
		return fmt.Errorf("s3: delete prefix %q: %w", prefix, s.translate(ctx, lerr))
	}
	return nil
}

// SignedURL implements blob.Store with a presigned GET. ttl must be between
// one second and MaxSignedURLTTL. It does no I/O once the bucket's region is
// known (Config.Region, or looked up once).
func (s *Store) SignedURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if !blob.ValidKey(key) {
		return "", fmt.Errorf("s3: signed url: %w", blob.InvalidKey(key))
	}
	if ttl < time.Second || ttl > MaxSignedURLTTL {
		return "", fmt.Errorf("s3: signed url %q: %w", key,
			shopclip.Errorf(shopclip.EINVALID, "blob: signed URL lifetime %s is outside [1s, %s]", ttl, MaxSignedURLTTL))
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, s.name(key), ttl, nil)
	if err != nil {
		return "", fmt.Errorf("s3: signed url %q: %w", key, s.translate(ctx, err))
	}
	return u.String(), nil
}

// Ping implements blob.Store: the server answers and the bucket exists.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: ping: %w", blob.CtxError(err))
	}
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3: ping %q: %w", s.bucket, s.translate(ctx, err))
	} else if !exists {
		return fmt.Errorf("s3: ping: %w", shopclip.Errorf(shopclip.EUNAVAILABLE, "blob: bucket %q does not exist", s.bucket))
	}
	return nil
}

// AbortIncompleteUploads aborts the multipart uploads under the Store's
// prefix that were started more than olderThan ago: uploads whose process
// died, which S3 keeps (and bills) until aborted. Run it as a janitor with
// an olderThan well above the longest upload.
func (s *Store) AbortIncompleteUploads(ctx context.Context, olderThan time.Duration) error {
	if olderThan < 0 {
		return shopclip.Errorf(shopclip.EINVALID, "s3: abort incomplete uploads: negative age %s", olderThan)
	}
	cutoff := time.Now().Add(-olderThan)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	core := minio.Core{Client: s.client}
	var firstErr error
	// List every upload of the bucket and filter here: MinIO lists uploads
	// for an empty prefix or an exact key only (a prefix like "clips/"
	// yields nothing), while AWS takes any prefix.
	for u := range s.client.ListIncompleteUploads(lctx, s.bucket, "", true) { // drained to its end
		if firstErr != nil {
			continue
		}
		if u.Err != nil {
			firstErr = u.Err
			cancel()
			continue
		}
		if !strings.HasPrefix(u.Key, s.prefix) || !u.Initiated.Before(cutoff) {
			continue
		}
		// One upload at a time, by ID: RemoveIncompleteUpload would
		// also abort younger uploads of the same key.
		err := core.AbortMultipartUpload(lctx, s.bucket, u.Key, u.UploadID)
		if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchUpload {
			firstErr = fmt.Errorf("%s (upload %s): %w", u.Key, u.UploadID, err)
			cancel()
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: abort incomplete uploads: %w", blob.CtxError(err))
	}
	if firstErr != nil {
		return fmt.Errorf("s3: abort incomplete uploads: %w", s.translate(ctx, firstErr))
	}
	return nil
}

// object is an open *minio.Object that is a blob.Object.
type object struct {
	s    *Store
	ctx  context.Context // Open's, which the reads of obj use; for errors only
	obj  *minio.Object
	info blob.Info
}

func (o *object) Info() blob.Info { return o.info }

func (o *object) Read(p []byte) (int, error) {
	n, err := o.obj.Read(p)
	return n, o.readError("read", err)
}

func (o *object) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.obj.ReadAt(p, off)
	return n, o.readError("read at", err)
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	n, err := o.obj.Seek(offset, whence)
	return n, o.readError("seek", err)
}

func (o *object) Close() error {
	return o.readError("close", o.obj.Close())
}

func (o *object) readError(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if minio.ToErrorResponse(err).Code == minio.PreconditionFailed && o.ctx.Err() == nil {
		// minio-go fetches data with If-Match on the ETag Open saw.
		err = blob.Coded(shopclip.ECONFLICT, "object replaced since it was opened", err)
	} else {
		err = o.s.translate(o.ctx, err)
	}
	return fmt.Errorf("s3: %s %q: %w", op, o.info.Key, err)
}

// sizedReader is what Put hands minio-go: it checks ctx between reads and,
// when size >= 0, that r yields exactly size bytes, failing the upload
// otherwise. It looks one byte past size as soon as size bytes are read,
// because minio-go stops reading there. A failing Read returns no bytes with
// its error: minio-go drops the error of a read that fills its part buffer.
type sizedReader struct {
	ctx  context.Context
	r    io.Reader
	size int64 // -1: unknown
	n    int64
	eof  bool
	err  error // why reading failed, sticky
}

func (r *sizedReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return 0, err
	}
	if r.eof {
		return 0, io.EOF
	}
	if r.size >= 0 && int64(len(p)) > r.size-r.n {
		p = p[:r.size-r.n]
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	switch {
	case err == io.EOF:
		r.eof = true
		if r.size >= 0 && r.n < r.size {
			r.err = shopclip.Errorf(shopclip.EINVALID, "blob: object has %d bytes, not its declared size %d", r.n, r.size)
		}
	case err != nil:
		r.err = fmt.Errorf("read: %w", err)
	case r.size >= 0 && r.n == r.size:
		r.checkEnd()
		if r.eof && r.err == nil {
			err = io.EOF
		}
	}
	if r.err != nil {
		return 0, r.err
	}
	return n, err
}

// checkEnd reads past the declared size, expecting io.EOF.
func (r *sizedReader) checkEnd() {
	var b [1]byte
	for range 100 {
		n, err := r.r.Read(b[:])
		if n > 0 {
			r.err = shopclip.Errorf(shopclip.EINVALID, "blob: object is longer than its declared size %d", r.size)
			return
		}
		if err == io.EOF {
			r.eof = true
			return
		} else if err != nil {
			r.err = fmt.Errorf("read: %w", err)
			return
		}
	}
	r.err = fmt.Errorf("read: %w", io.ErrNoProgress)
}

// ListPage implements blob.Store with one ListObjectsV2 request (MaxKeys
// limit, StartAfter after), or a few when the server answers short pages or
// keys that are not ours.
func (s *Store) ListPage(ctx context.Context, prefix, after string, limit int) ([]blob.Info, error) {
	if !blob.ValidListPrefix(prefix) {
		return nil, fmt.Errorf("s3: list page: %w", shopclip.Errorf(shopclip.EINVALID, "blob: invalid prefix %q", prefix))
	}
	limit, err := blob.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("s3: list page: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3: list page %q: %w", prefix, blob.CtxError(err))
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := minio.ListObjectsOptions{Prefix: s.name(prefix), Recursive: true, MaxKeys: limit}
	if after != "" {
		opts.StartAfter = s.name(after)
	}
	infos := []blob.Info{}
	var lerr error
	full := false
	// Drained to its end, see List; cancelled once the page is full.
	for oi := range s.client.ListObjects(lctx, s.bucket, opts) {
		if lerr != nil || full {
			continue
		}
		if oi.Err != nil {
			lerr = oi.Err
			cancel()
			continue
		}
		info := s.info(oi)
		if !blob.ValidKey(info.Key) || info.Key <= after {
			continue
		}
		infos = append(infos, info)
		if len(infos) == limit {
			full = true
			cancel()
		}
	}
	if lerr != nil {
		return nil, fmt.Errorf("s3: list page %q: %w", prefix, s.translate(ctx, lerr))
	}
	slices.SortFunc(infos, func(a, b blob.Info) int { return strings.Compare(a.Key, b.Key) })
	return infos, nil
}
