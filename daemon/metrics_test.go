package daemon

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/configs"
	"github.com/servent-p2p/servent/overlay"
	"github.com/servent-p2p/servent/query"
)

func TestMetricsEndpoint(t *testing.T) {
	o := clusterOptions{nodes: 3, routing: "smart", leavesPerUltrapeer: 30, meshDegree: 8, ttl: 3,
		configure: func(i int, cfg *configs.Config) {
			if i == 0 {
				cfg.MetricsListen = "127.0.0.1:0"
			}
		}}
	c := startCluster(t, o)
	c.settled(30 * time.Second)
	d := c.nodes[0]
	d.searcher.search(t.Context(), api.SearchRequest{Words: []string{"doc001"}, Timeout: time.Second, Max: 1}, func(api.Result) {})

	resp, err := http.Get("http://" + d.metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`servent_query_messages_total\{event="originated",type="query"\} (\d+)`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no originated counter in:\n%s", body)
	}
	if n, _ := strconv.Atoi(string(m[1])); n < 1 {
		t.Fatalf("originated queries = %d, want ≥ 1", n)
	}
	if !regexp.MustCompile(`servent_beacons_total\{event="wrong_source"\} 0\b`).Match(body) {
		t.Errorf("no beacon replay counter in:\n%s", body)
	}
	if !regexp.MustCompile(`servent_members 3\b`).Match(body) {
		t.Fatalf("servent_members is not 3:\n%s", body)
	}
}

// fakeMetrics is a node's counters, fixed.
type fakeMetrics struct {
	c  query.Counters
	st overlay.Stats
}

func (f fakeMetrics) queryCounters() query.Counters { return f.c }
func (f fakeMetrics) overlayStats() overlay.Stats   { return f.st }
func (f fakeMetrics) members() int                  { return 7 }
func (f fakeMetrics) shares() int                   { return 42 }

// TestMetricsCollector: every figure comes from its counter, and the
// datagram drops add the routing core's to the plane's.
func TestMetricsCollector(t *testing.T) {
	var src fakeMetrics
	src.c.Query.Originated = 3
	src.c.QueryHit.Dropped.Duplicate = 5
	src.c.Malformed = 2
	src.st.DroppedMalformed = 4
	src.st.BeaconsStale = 6
	src.st.Planes = map[byte]overlay.PlaneStats{1: {Dropped: 1}, 2: {Dropped: 10}}
	var b strings.Builder
	writeMetrics(&b, src)
	for _, line := range []string{
		`servent_query_messages_total{event="originated",type="query"} 3`,
		`servent_query_dropped_total{reason="duplicate",type="query_hit"} 5`,
		`servent_datagrams_dropped_total{cause="malformed"} 6`,
		`servent_datagrams_dropped_total{cause="plane_queue"} 11`,
		`servent_beacons_total{event="stale"} 6`,
		`servent_members 7`,
		`servent_shared_files 42`,
	} {
		if !strings.Contains(b.String(), "\n"+line+"\n") {
			t.Errorf("no line %q in:\n%s", line, b.String())
		}
	}
}
