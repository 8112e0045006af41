package upload

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/filelocker"
	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	"github.com/tus/tusd/v2/pkg/s3store"
)

// Backend is where uploads are assembled until they are complete.
type Backend struct {
	composer *handler.StoreComposer
	// dir is the local backend's directory, for Expire.
	dir string
	// s3 is the S3 backend's bucket, for Expire.
	s3 *s3Bucket
}

// s3Bucket is where an S3 backend's uploads are: tusd's objects are
// prefix+objectID (the upload once complete), prefix+objectID+".info" (its
// FileInfo, the upload's ID objectID+"+"+multipartID in it) and
// prefix+objectID+".part" (bytes short of a part), and the multipart
// upload of prefix+objectID holds its parts.
type s3Bucket struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/", as tusd's keyWithPrefix makes it
}

// Local assembles uploads as files in dir (created if missing), locked
// with lock files: the embedded default, and any deployment whose API
// servers share a disk.
func Local(dir string) (*Backend, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	c := handler.NewStoreComposer()
	store := filestore.New(dir)
	store.UseIn(c)
	filelocker.New(dir).UseIn(c)
	return &Backend{composer: c, dir: dir}, nil
}

// S3Config locates the bucket S3 uploads are assembled in.
type S3Config struct {
	Endpoint  string // host:port, no scheme
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	UseSSL    bool
	// Prefix is put before every object's key. Default "uploads/".
	Prefix string
	// PartSize is the size of the S3 parts an upload is cut into, each
	// written to a temporary file before it is sent. Default 16 MiB (S3's
	// least is 5 MiB); larger uploads get larger parts so as to stay
	// within S3's 10 000.
	PartSize int64
	// BufferedParts is how many parts of one PATCH wait on disk while
	// another is sent: with the one sent, an upload's disk use is at most
	// (BufferedParts+1)·PartSize. Default 2.
	BufferedParts int64
	// ConcurrentParts bounds the parts sent to S3 at once, across every
	// upload of the backend. Default 8.
	ConcurrentParts int
	// TempDir holds the parts on their way; default the system's.
	TempDir string
}

// S3 part buffering defaults (tusd's own are 50 MiB parts and 20 buffered:
// a gigabyte of disk per upload).
const (
	defaultS3PartSize        = 16 << 20
	defaultS3BufferedParts   = 2
	defaultS3ConcurrentParts = 8
)

// S3 assembles uploads as S3 multipart uploads (parts of S3Config.PartSize,
// buffered on local disk until full, a bounded number at once) in a bucket, for API servers that
// share no disk. Locks are in memory: a load balancer in front of several
// API servers must send one upload's requests to one server (by upload
// path), or a client's retried PATCH may race its first.
func S3(cfg S3Config) (*Backend, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("upload: S3 needs an endpoint and a bucket")
	}
	if cfg.PartSize != 0 && cfg.PartSize < 5<<20 {
		return nil, errors.New("upload: S3 parts are 5 MiB at least")
	}
	scheme := "http://"
	if cfg.UseSSL {
		scheme = "https://"
	}
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(scheme + cfg.Endpoint),
		Region:       cfg.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		UsePathStyle: true,
		// MinIO and other S3 servers need not speak the newest checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	store := s3store.New(cfg.Bucket, client)
	store.ObjectPrefix = strings.TrimSuffix(cmpOr(cfg.Prefix, "uploads/"), "/")
	store.PreferredPartSize = cmp.Or(cfg.PartSize, defaultS3PartSize)
	store.MaxBufferedParts = cmp.Or(cfg.BufferedParts, defaultS3BufferedParts)
	store.TemporaryDirectory = cfg.TempDir
	store.SetConcurrentPartUploads(cmp.Or(cfg.ConcurrentParts, defaultS3ConcurrentParts))
	c := handler.NewStoreComposer()
	store.UseIn(c)
	memorylocker.New().UseIn(c)
	bucket := &s3Bucket{client: client, bucket: cfg.Bucket, prefix: store.ObjectPrefix}
	if bucket.prefix != "" {
		bucket.prefix += "/"
	}
	return &Backend{composer: c, s3: bucket}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// terminate deletes upload id.
func (b *Backend) terminate(ctx context.Context, id string) error {
	up, err := b.composer.Core.GetUpload(ctx, id)
	if err != nil {
		return err
	}
	return b.composer.Terminater.AsTerminatableUpload(up).Terminate(ctx)
}

// Expire deletes the uploads untouched for longer than age: the ones their
// clients gave up on, with everything they hold (on S3: the upload's
// objects and its multipart upload). An upload's last touch is its
// newest write: locally its file's; on S3 the newest of its info object,
// its incomplete part, its completed object and the parts of its multipart
// upload. Expire returns how many uploads it deleted. It does not release
// the uploads' quota holds: those stop counting when they go stale.
func (b *Backend) Expire(ctx context.Context, age time.Duration, now time.Time) (int, error) {
	if b.s3 != nil {
		return b.s3.expire(ctx, b, age, now)
	}
	if b.dir == "" {
		return 0, nil
	}
	infos, err := filepath.Glob(filepath.Join(b.dir, "*.info"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, info := range infos {
		id := strings.TrimSuffix(filepath.Base(info), ".info")
		st, err := os.Stat(filepath.Join(b.dir, id))
		if err != nil {
			st, err = os.Stat(info)
		}
		if err != nil || now.Sub(st.ModTime()) < age {
			continue
		}
		if err := b.terminate(ctx, id); err != nil && !errors.Is(err, handler.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, ctx.Err()
}

// expirePage bounds the keys of one listing (S3's own bound too) and the
// parts of one ListParts answer.
const expirePage = 1000

// expire is Expire on S3. It lists the info objects under the prefix a
// page at a time; an upload whose info object is younger than age is kept
// without looking further. An upload it cannot judge or delete is left for
// the next run, and the first such error is returned once the others are
// done.
func (s *s3Bucket) expire(ctx context.Context, b *Backend, age time.Duration, now time.Time) (int, error) {
	n := 0
	var firstErr error
	var token *string
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		page, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
			Bucket:            aws.String(s.bucket),
			Prefix:            aws.String(s.prefix),
			Delimiter:         aws.String("/"),
			MaxKeys:           aws.Int32(expirePage),
			ContinuationToken: token,
		})
		if err != nil {
			return n, fmt.Errorf("upload: expire: list %q: %w", s.prefix, err)
		}
		for _, o := range page.Contents {
			objectID, ok := strings.CutSuffix(strings.TrimPrefix(aws.ToString(o.Key), s.prefix), ".info")
			if !ok || objectID == "" || now.Sub(aws.ToTime(o.LastModified)) < age {
				continue
			}
			id, last, err := s.lastTouch(ctx, objectID, aws.ToTime(o.LastModified))
			if err == nil && id != "" && now.Sub(last) >= age {
				if err = b.terminate(ctx, id); err == nil {
					n++
				}
			}
			if err != nil && ctx.Err() == nil && firstErr == nil {
				firstErr = fmt.Errorf("upload: expire %s: %w", objectID, err)
			}
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			break
		}
		token = page.NextContinuationToken
	}
	if err := ctx.Err(); err != nil {
		return n, err
	}
	return n, firstErr
}

// lastTouch returns the ID of the upload whose info object is
// prefix+objectID+".info" (written at infoTime), and when it was last
// written to. The ID is "" when the upload is gone.
func (s *s3Bucket) lastTouch(ctx context.Context, objectID string, infoTime time.Time) (string, time.Time, error) {
	last := infoTime
	obj, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + objectID + ".info")})
	if isS3Code(err, "NoSuchKey", "NotFound") {
		return "", last, nil
	} else if err != nil {
		return "", last, err
	}
	var info handler.FileInfo
	err = json.NewDecoder(io.LimitReader(obj.Body, 1<<20)).Decode(&info)
	obj.Body.Close()
	if err != nil {
		return "", last, fmt.Errorf("read its info: %w", err)
	}
	multipartID, ok := strings.CutPrefix(info.ID, objectID+"+")
	if !ok || multipartID == "" || strings.Contains(multipartID, "+") {
		return "", last, fmt.Errorf("its info names upload %q", info.ID)
	}
	// The incomplete part, and the completed upload waiting for its clip.
	for _, key := range []string{s.prefix + objectID + ".part", s.prefix + objectID} {
		head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
		switch {
		case isS3Code(err, "NoSuchKey", "NotFound"):
		case err != nil:
			return "", last, err
		case aws.ToTime(head.LastModified).After(last):
			last = aws.ToTime(head.LastModified)
		}
	}
	// The parts of the multipart upload, unless it is gone (completed, or
	// aborted by the bucket's janitor). S3 allows 10 000 parts.
	var marker *string
	for range 10_000/expirePage + 1 {
		parts, err := s.client.ListParts(ctx, &s3.ListPartsInput{
			Bucket:           aws.String(s.bucket),
			Key:              aws.String(s.prefix + objectID),
			UploadId:         aws.String(multipartID),
			MaxParts:         aws.Int32(expirePage),
			PartNumberMarker: marker,
		})
		if isS3Code(err, "NoSuchUpload", "NoSuchKey") {
			break
		} else if err != nil {
			return "", last, err
		}
		for _, p := range parts.Parts {
			if aws.ToTime(p.LastModified).After(last) {
				last = aws.ToTime(p.LastModified)
			}
		}
		if !aws.ToBool(parts.IsTruncated) || parts.NextPartNumberMarker == nil {
			break
		}
		marker = parts.NextPartNumberMarker
	}
	return info.ID, last, nil
}

// isS3Code reports whether err is an S3 error with one of codes.
func isS3Code(err error, codes ...string) bool {
	var apiErr interface{ ErrorCode() string }
	if err == nil || !errors.As(err, &apiErr) {
		return false
	}
	for _, c := range codes {
		if apiErr.ErrorCode() == c {
			return true
		}
	}
	return false
}
