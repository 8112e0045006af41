package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopclip/shopclip/backup"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/store"
)

// scaleOutBackup is what backup and restore say to a configuration that
// keeps its data in PostgreSQL or S3.
const scaleOutBackup = "back up PostgreSQL with pg_dump (or its continuous archiving) and the bucket with versioning or replication: see \"Backups\" in the README"

// embeddedOnly refuses a configuration that is not the embedded default.
func embeddedOnly(cfg configs.Config, cmd string) error {
	var where []string
	if cfg.UsesPostgres() {
		where = append(where, "PostgreSQL")
	}
	if cfg.Blob.S3.Enabled() {
		where = append(where, "S3 ("+cfg.Blob.S3.Bucket+")")
	}
	if len(where) == 0 {
		return nil
	}
	return fmt.Errorf("%s covers the embedded default (a SQLite file and a local blob directory); this configuration keeps its data in %s: %s",
		cmd, strings.Join(where, " and "), scaleOutBackup)
}

// runBackup implements `shopclip backup --out DIR`: a consistent copy of the
// embedded default's database and blobs, also while `shopclip up` runs.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shopclip backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the backup directory to create (new or empty)")
	data := fs.String("data", "", "data directory (default ~/.local/share/shopclip)")
	config := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *out == "" {
		return errors.New("usage: shopclip backup --out DIR [--data DIR] [--config FILE]")
	}
	cfg, err := configFromFlags(*config, "", *data)
	if err != nil {
		return err
	}
	if err := embeddedOnly(cfg, "shopclip backup"); err != nil {
		return err
	}
	dbPath, err := store.SQLitePath(cfg.Database.URL)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("no database at %s: is --data %s the data directory of a shopclip? (%w)", dbPath, cfg.DataDir, err)
	}
	if fi, err := os.Stat(cfg.Blob.Dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("no blob directory at %s: is --data %s the data directory of a shopclip?", cfg.Blob.Dir, cfg.DataDir)
	}
	blobs, err := local.New(cfg.Blob.Dir)
	if err != nil {
		return err
	}
	defer blobs.Close()
	abs, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	start := time.Now()
	m, err := backup.Create(ctx, backup.Source{Database: dbPath, Blobs: blobs}, abs, backup.Options{Version: version()})
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(stdout, "shopclip: backed up %s to %s in %s\n", cfg.DataDir, abs, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "  database  %s: schema %d, snapshot at %s; %s\n", dbPath, m.SchemaVersion, m.SnapshotAt.Format(time.RFC3339), rowSummary(m.Rows))
	fmt.Fprintf(stdout, "  blobs     %s: %d objects, %s\n", cfg.Blob.Dir, m.Objects, byteSize(m.Bytes))
	fmt.Fprintf(stdout, "  manifest  %s (sha256 of every file)\n", filepath.Join(abs, backup.ManifestFile))
	fmt.Fprintln(stdout, "  not copied: the job queue (Redis; the reconciler re-enqueues from the database), unfinished uploads, job directories")
	if m.Vanished > 0 || len(m.Missing) > 0 {
		fmt.Fprintf(stdout, "  warning: %d objects were deleted while the backup ran; clips in the backup missing objects (deleted meanwhile?):\n", m.Vanished)
		for _, k := range m.Missing {
			fmt.Fprintf(stdout, "    %s\n", k)
		}
	}
	return nil
}

// runRestore implements `shopclip restore --from DIR --data NEWDATA`: a
// backup restored into an empty data directory, its checksums verified.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shopclip restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the backup directory (made by shopclip backup)")
	data := fs.String("data", "", "the data directory to restore into (new or empty)")
	config := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *from == "" || *data == "" {
		return errors.New("usage: shopclip restore --from DIR --data NEWDATA [--config FILE]")
	}
	cfg, err := configFromFlags(*config, "", *data)
	if err != nil {
		return err
	}
	if err := embeddedOnly(cfg, "shopclip restore"); err != nil {
		return err
	}
	dbPath, err := store.SQLitePath(cfg.Database.URL)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// The lock `shopclip up` takes: no up runs here while we restore.
	lock, err := lockDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Close()
	ents, err := os.ReadDir(cfg.DataDir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() != filepath.Base(lock.Name()) {
			return fmt.Errorf("%s is not empty (it holds %s): restore only into a new or empty data directory", cfg.DataDir, e.Name())
		}
	}
	if _, err := backup.ReadManifest(*from); err != nil { // before creating anything
		return userError(err)
	}
	blobs, err := local.New(cfg.Blob.Dir)
	if err != nil {
		return err
	}
	defer blobs.Close()
	start := time.Now()
	m, err := backup.Restore(ctx, *from, backup.Target{Database: dbPath, Blobs: blobs})
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(stdout, "shopclip: restored the backup of %s (shopclip %s) into %s in %s, every checksum verified\n",
		m.SnapshotAt.Format(time.RFC3339), m.Version, cfg.DataDir, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "  database  %s: schema %d; %s\n", dbPath, m.SchemaVersion, rowSummary(m.Rows))
	fmt.Fprintf(stdout, "  blobs     %s: %d objects, %s\n", cfg.Blob.Dir, m.Objects, byteSize(m.Bytes))
	if n := m.Rows["clips.uploaded"] + m.Rows["clips.processing"]; n > 0 {
		fmt.Fprintf(stdout, "  clips being processed at the backup: %d; shopclip up enqueues them again (its reconciler, within about two minutes)\n", n)
	}
	fmt.Fprintf(stdout, "Start it with: %s up --data %s\n", os.Args[0], cfg.DataDir)
	return nil
}

// rowSummary lists the main row counts of a manifest.
func rowSummary(rows map[string]int64) string {
	var parts []string
	for _, k := range []string{"accounts", "clips", "products", "tags", "events"} {
		if n, ok := rows[k]; ok {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	var st []string
	for _, s := range []string{"ready", "processing", "uploaded", "failed"} {
		if n := rows["clips."+s]; n > 0 {
			st = append(st, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(st) > 0 {
		parts = append(parts, "clips "+strings.Join(st, ", "))
	}
	return strings.Join(parts, ", ")
}

// byteSize formats n bytes for people.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
