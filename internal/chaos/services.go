package chaos

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
)

// redisServer is the queue's Redis: AOF on, every write fsynced, so a
// kill -9 loses no acknowledged enqueue.
type redisServer struct {
	*proc
	addr string
}

func (d *Drill) startRedis(ctx context.Context) (*redisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(d.dir, "redis")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	r := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	r.proc = &proc{name: "redis", logPath: filepath.Join(d.dir, "redis.log"), newCmd: func() *exec.Cmd {
		return exec.Command(d.cfg.RedisBin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
			"--maxmemory-policy", "noeviction")
	}}
	if err := r.start(); err != nil {
		return nil, err
	}
	return r, r.wait(ctx)
}

func (r *redisServer) wait(ctx context.Context) error {
	if err := waitFor(ctx, 30*time.Second, func() error { return redisPing(r.addr) }); err != nil {
		return fmt.Errorf("chaos: redis: %w", err)
	}
	return nil
}

// redisPing sends PING and expects +PONG (also once the AOF is loaded).
func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(buf[:n]), "+PONG") {
		return fmt.Errorf("redis: %q", buf[:n])
	}
	return nil
}

// postgresServer is the metadata database: its own cluster in a temporary
// directory, run as the postgres user when the drill runs as root.
type postgresServer struct {
	*proc
	addr  string
	url   string // the shopclip database
	admin string // the postgres database
}

func (d *Drill) startPostgres(ctx context.Context) (*postgresServer, error) {
	bin := d.cfg.PostgresBinDir
	// Not under d.dir: the postgres user must be able to reach it.
	dir, err := os.MkdirTemp("", "shopclip-chaos-pg-")
	if err != nil {
		return nil, err
	}
	d.cleanups = append(d.cleanups, func() { os.RemoveAll(dir) })
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("chaos: running as root and no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("chaos: initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &postgresServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	p.admin = "postgres://postgres@" + p.addr + "/postgres?sslmode=disable"
	p.url = "postgres://postgres@" + p.addr + "/shopclip?sslmode=disable"
	p.proc = &proc{name: "postgres", logPath: filepath.Join(d.dir, "postgres.log"), newCmd: func() *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
			"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
			"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=300")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		return cmd
	}}
	if err := p.start(); err != nil {
		return nil, err
	}
	if err := p.wait(ctx); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, p.admin)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE shopclip"); err != nil {
		return nil, fmt.Errorf("chaos: create database: %w", err)
	}
	return p, nil
}

// wait waits until PostgreSQL answers queries (it listens before).
func (p *postgresServer) wait(ctx context.Context) error {
	err := waitFor(ctx, 60*time.Second, func() error {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		conn, err := pgx.Connect(cctx, p.admin)
		if err != nil {
			return err
		}
		defer conn.Close(cctx)
		return conn.Ping(cctx)
	})
	if err != nil {
		return fmt.Errorf("chaos: postgres: %w", err)
	}
	return nil
}

// minioServer is the object store.
type minioServer struct {
	*proc
	addr           string
	access, secret string
	bucket         string
}

func (d *Drill) startMinIO(ctx context.Context) (*minioServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(d.dir, "minio")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	m := &minioServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		access: "chaosadmin", secret: "chaossecret" + strconv.FormatInt(d.cfg.Seed, 36), bucket: "shopclip-chaos"}
	m.proc = &proc{name: "minio", logPath: filepath.Join(d.dir, "minio.log"), newCmd: func() *exec.Cmd {
		cmd := exec.Command(d.cfg.MinIOBin, "server", "--quiet", "--address", m.addr, dir)
		cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+m.access, "MINIO_ROOT_PASSWORD="+m.secret,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off")
		return cmd
	}}
	if err := m.start(); err != nil {
		return nil, err
	}
	return m, m.wait(ctx)
}

// wait waits for MinIO's readiness probe (it listens before it serves).
func (m *minioServer) wait(ctx context.Context) error {
	err := waitFor(ctx, 60*time.Second, func() error {
		resp, err := http.Get("http://" + m.addr + "/minio/health/cluster")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("chaos: minio: %w", err)
	}
	return nil
}

// toxics is Toxiproxy, in process: the workers reach Redis and MinIO
// through its proxies, and the drill adds and removes toxics on them.
type toxics struct {
	server       *toxiproxy.ApiServer
	redis, minio *toxiproxy.Proxy
}

func newToxics(redisAddr, minioAddr string) (*toxics, error) {
	// The toxics log through zerolog's global logger, at trace level.
	zerolog.SetGlobalLevel(zerolog.WarnLevel)
	s := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	t := &toxics{server: s}
	var err error
	if t.redis, err = t.proxy("redis", redisAddr); err != nil {
		return nil, err
	}
	if t.minio, err = t.proxy("minio", minioAddr); err != nil {
		t.redis.Stop()
		return nil, err
	}
	return t, nil
}

func (t *toxics) proxy(name, upstream string) (*toxiproxy.Proxy, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := toxiproxy.NewProxy(t.server, name, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("chaos: toxiproxy %s: %w", name, err)
	}
	return p, nil
}

// add puts a toxic on p: typ with attributes attrs (JSON), on the stream
// ("upstream" or "downstream").
func (t *toxics) add(p *toxiproxy.Proxy, name, typ, stream, attrs string) error {
	js := fmt.Sprintf(`{"name":%q,"type":%q,"stream":%q,"toxicity":1,"attributes":%s}`, name, typ, stream, attrs)
	if _, err := p.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
		return fmt.Errorf("chaos: toxic %s on %s: %w", name, p.Name, err)
	}
	return nil
}

// remove takes a toxic off p.
func (t *toxics) remove(p *toxiproxy.Proxy, name string) {
	_ = p.Toxics.RemoveToxic(context.Background(), name)
}

func (t *toxics) close() {
	t.redis.Stop()
	t.minio.Stop()
}
