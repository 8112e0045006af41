package upload

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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
	return &Backend{composer: c}, nil
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

// Expire deletes the local backend's uploads untouched for longer than
// age: the ones their clients gave up on. It returns how many it deleted.
// An S3 backend's abandoned multipart uploads are the bucket's to expire
// (a lifecycle rule); Expire does nothing there.
func (b *Backend) Expire(ctx context.Context, age time.Duration, now time.Time) (int, error) {
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
