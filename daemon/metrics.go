package daemon

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

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

// writeMetrics writes the node's counters in the Prometheus text format
// (version 0.0.4), read when scraped: the routing core's per-type
// counters, the datagram plane's, and two gauges.
func writeMetrics(w io.Writer, src metricsSource) {
	c := src.queryCounters()
	var msgs, drops []sample
	for _, t := range []struct {
		name string
		tc   query.TypeCounters
	}{{"query", c.Query}, {"query_hit", c.QueryHit}} {
		tc, dr := t.tc, t.tc.Dropped
		for _, e := range []struct {
			event string
			n     uint64
		}{{"sent", tc.Sent}, {"received", tc.Received}, {"forwarded", tc.Forwarded}, {"originated", tc.Originated}, {"delivered", tc.Delivered}} {
			msgs = append(msgs, sample{`event="` + e.event + `",type="` + t.name + `"`, e.n})
		}
		for _, r := range []struct {
			reason string
			n      uint64
		}{{"duplicate", dr.Duplicate}, {"ttl", dr.TTL}, {"rate_limited", dr.RateLimited}, {"non_member", dr.NonMember},
			{"unknown_guid", dr.UnknownGUID}, {"unexpected", dr.Unexpected}, {"no_route", dr.NoRoute}, {"link_rate_limited", dr.LinkRateLimited}} {
			drops = append(drops, sample{`reason="` + r.reason + `",type="` + t.name + `"`, r.n})
		}
	}
	st := src.overlayStats()
	var queued uint64
	for _, p := range st.Planes {
		queued += p.Dropped
	}
	cause := func(c string, n uint64) sample { return sample{`cause="` + c + `"`, n} }
	event := func(e string, n uint64) sample { return sample{`event="` + e + `"`, n} }
	writeFamily(w, "servent_query_messages_total", "Query-plane descriptors by type and event.", "counter", msgs...)
	writeFamily(w, "servent_query_dropped_total", "Query-plane descriptors dropped, by type and reason.", "counter", drops...)
	writeFamily(w, "servent_members", "Members this node sees, itself included.", "gauge", sample{"", uint64(src.members())})
	writeFamily(w, "servent_shared_files", "Files in this node's catalog.", "gauge", sample{"", uint64(src.shares())})
	writeFamily(w, "servent_datagrams_dropped_total", "Datagrams dropped before routing, by cause.", "counter",
		cause("malformed", c.Malformed+st.DroppedMalformed), cause("non_member", st.DroppedNonMember),
		cause("unauthenticated", st.DroppedUnauthenticated), cause("no_connection", st.DroppedNoPath),
		cause("send_refused", st.DroppedSend), cause("unknown_plane", st.DroppedUnknownPlane),
		cause("quic_queue", st.DroppedQUICQueue), cause("plane_queue", queued))
	writeFamily(w, "servent_beacons_total", "LAN discovery beacons by event (replays: wrong_source, stale).", "counter",
		event("sent", st.BeaconsSent), event("received", st.BeaconsIn), event("rejected", st.BeaconsRejected),
		event("wrong_source", st.BeaconsWrongSource), event("stale", st.BeaconsStale), event("throttled", st.BeaconsThrottled))
}

// sample is one value of a metric family: its labels, already written
// out in label-name order (label values here are fixed words that need
// no escaping), and its value.
type sample struct {
	labels string
	value  uint64
}

// writeFamily writes one metric family: HELP, TYPE and its samples.
func writeFamily(w io.Writer, name, help, typ string, samples ...sample) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	for _, s := range samples {
		if s.labels == "" {
			fmt.Fprintf(w, "%s %d\n", name, s.value)
		} else {
			fmt.Fprintf(w, "%s{%s} %d\n", name, s.labels, s.value)
		}
	}
}

// startMetrics serves /metrics on the configured loopback address (the
// configuration refuses any other). It returns the server to close.
func (d *Daemon) startMetrics() (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		writeMetrics(w, metricsNode{d})
	})
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
