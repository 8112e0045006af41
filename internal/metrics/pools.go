package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
)

// RegisterDB registers the statistics of database pools (go_sql_*, labelled
// db_name with the map's keys: SQLite has a write and a read pool,
// PostgreSQL one).
func RegisterDB(reg prometheus.Registerer, pools map[string]*sql.DB) {
	for name, db := range pools {
		register(reg, collectors.NewDBStatsCollector(db, name))
	}
}

// RedisPool is a client whose connection pool can be described: a
// redis.UniversalClient.
type RedisPool interface {
	PoolStats() *redis.PoolStats
}

// RegisterRedis registers the statistics of a Redis client's connection
// pool, labelled client with name.
func RegisterRedis(reg prometheus.Registerer, name string, c RedisPool) {
	register(reg, &redisCollector{name: name, c: c})
}

var (
	redisHits     = prometheus.NewDesc("shopclip_redis_pool_hits_total", "Times a free connection was found in the Redis pool.", []string{"client"}, nil)
	redisMisses   = prometheus.NewDesc("shopclip_redis_pool_misses_total", "Times no free connection was found in the Redis pool.", []string{"client"}, nil)
	redisTimeouts = prometheus.NewDesc("shopclip_redis_pool_timeouts_total", "Times waiting for a Redis pool connection timed out.", []string{"client"}, nil)
	redisTotal    = prometheus.NewDesc("shopclip_redis_pool_connections", "Connections in the Redis pool.", []string{"client"}, nil)
	redisIdle     = prometheus.NewDesc("shopclip_redis_pool_idle_connections", "Idle connections in the Redis pool.", []string{"client"}, nil)
	redisStale    = prometheus.NewDesc("shopclip_redis_pool_stale_connections_total", "Stale connections removed from the Redis pool.", []string{"client"}, nil)
)

type redisCollector struct {
	name string
	c    RedisPool
}

func (r *redisCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{redisHits, redisMisses, redisTimeouts, redisTotal, redisIdle, redisStale} {
		ch <- d
	}
}

func (r *redisCollector) Collect(ch chan<- prometheus.Metric) {
	s := r.c.PoolStats()
	ch <- prometheus.MustNewConstMetric(redisHits, prometheus.CounterValue, float64(s.Hits), r.name)
	ch <- prometheus.MustNewConstMetric(redisMisses, prometheus.CounterValue, float64(s.Misses), r.name)
	ch <- prometheus.MustNewConstMetric(redisTimeouts, prometheus.CounterValue, float64(s.Timeouts), r.name)
	ch <- prometheus.MustNewConstMetric(redisTotal, prometheus.GaugeValue, float64(s.TotalConns), r.name)
	ch <- prometheus.MustNewConstMetric(redisIdle, prometheus.GaugeValue, float64(s.IdleConns), r.name)
	ch <- prometheus.MustNewConstMetric(redisStale, prometheus.CounterValue, float64(s.StaleConns), r.name)
}
