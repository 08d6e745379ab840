package daemon

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/query"
)

// metricsSource is what the metrics read from the node when scraped.
// Its methods are called concurrently and do not block.
type metricsSource interface {
	queryCounters() query.Counters // the routing core's
	overlayStats() overlay.Stats   // the datagram plane's and discovery's
	members() int                  // members seen, this node included
	shares() int                   // files in the catalog
}

// metricsCollector exposes the node's counters to Prometheus, read when
// scraped: the routing core's per-type counters and the datagram plane's.
type metricsCollector struct {
	src      metricsSource
	messages *prometheus.Desc
	drops    *prometheus.Desc
	members  *prometheus.Desc
	shares   *prometheus.Desc
	dgrams   *prometheus.Desc
	beacons  *prometheus.Desc
}

func newMetricsCollector(src metricsSource) *metricsCollector {
	return &metricsCollector{
		src:      src,
		messages: prometheus.NewDesc("servent_query_messages_total", "Query-plane descriptors by type and event.", []string{"type", "event"}, nil),
		drops:    prometheus.NewDesc("servent_query_dropped_total", "Query-plane descriptors dropped, by type and reason.", []string{"type", "reason"}, nil),
		members:  prometheus.NewDesc("servent_members", "Members this node sees, itself included.", nil, nil),
		shares:   prometheus.NewDesc("servent_shared_files", "Files in this node's catalog.", nil, nil),
		dgrams:   prometheus.NewDesc("servent_datagrams_dropped_total", "Datagrams dropped before routing, by cause.", []string{"cause"}, nil),
		beacons:  prometheus.NewDesc("servent_beacons_total", "LAN discovery beacons by event (replays: wrong_source, stale).", []string{"event"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.messages, m.drops, m.members, m.shares, m.dgrams, m.beacons} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metricsCollector) Collect(ch chan<- prometheus.Metric) {
	c := m.src.queryCounters()
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	for typ, tc := range map[string]query.TypeCounters{"query": c.Query, "query_hit": c.QueryHit} {
		counter(m.messages, tc.Sent, typ, "sent")
		counter(m.messages, tc.Received, typ, "received")
		counter(m.messages, tc.Forwarded, typ, "forwarded")
		counter(m.messages, tc.Originated, typ, "originated")
		counter(m.messages, tc.Delivered, typ, "delivered")
		dr := tc.Dropped
		counter(m.drops, dr.Duplicate, typ, "duplicate")
		counter(m.drops, dr.TTL, typ, "ttl")
		counter(m.drops, dr.RateLimited, typ, "rate_limited")
		counter(m.drops, dr.NonMember, typ, "non_member")
		counter(m.drops, dr.UnknownGUID, typ, "unknown_guid")
		counter(m.drops, dr.Unexpected, typ, "unexpected")
		counter(m.drops, dr.NoRoute, typ, "no_route")
		counter(m.drops, dr.LinkRateLimited, typ, "link_rate_limited")
	}
	st := m.src.overlayStats()
	counter(m.dgrams, c.Malformed+st.DroppedMalformed, "malformed")
	counter(m.dgrams, st.DroppedNonMember, "non_member")
	counter(m.dgrams, st.DroppedUnauthenticated, "unauthenticated")
	counter(m.dgrams, st.DroppedNoPath, "no_connection")
	counter(m.dgrams, st.DroppedSend, "send_refused")
	counter(m.dgrams, st.DroppedUnknownPlane, "unknown_plane")
	counter(m.dgrams, st.DroppedQUICQueue, "quic_queue")
	var queued uint64
	for _, p := range st.Planes {
		queued += p.Dropped
	}
	counter(m.dgrams, queued, "plane_queue")
	counter(m.beacons, st.BeaconsSent, "sent")
	counter(m.beacons, st.BeaconsIn, "received")
	counter(m.beacons, st.BeaconsRejected, "rejected")
	counter(m.beacons, st.BeaconsWrongSource, "wrong_source")
	counter(m.beacons, st.BeaconsStale, "stale")
	counter(m.beacons, st.BeaconsThrottled, "throttled")
	ch <- prometheus.MustNewConstMetric(m.members, prometheus.GaugeValue, float64(m.src.members()))
	ch <- prometheus.MustNewConstMetric(m.shares, prometheus.GaugeValue, float64(m.src.shares()))
}

// startMetrics serves /metrics on the configured loopback address (the
// configuration refuses any other). It returns the server to close.
func (d *Daemon) startMetrics() (*http.Server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newMetricsCollector(metricsNode{d}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", d.cfg.MetricsListen)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	d.metricsAddr = ln.Addr().String()
	d.goFunc(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Warn("metrics server", "err", err)
		}
	})
	d.log.Info("serving Prometheus metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return srv, nil
}

// metricsNode is the node as its metrics see it (metricsSource).
type metricsNode struct{ d *Daemon }

var _ metricsSource = metricsNode{}

func (n metricsNode) queryCounters() query.Counters {
	var c query.Counters
	n.d.withRouter(func(r *query.Router) { c = r.Counters() })
	return c
}

func (n metricsNode) overlayStats() overlay.Stats { return n.d.ov.Stats() }
func (n metricsNode) members() int                { return n.d.ov.NumMembers() }
func (n metricsNode) shares() int                 { return n.d.store.Count() }
