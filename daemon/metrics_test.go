package daemon

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/servent-p2p/servent/api"
	"github.com/servent-p2p/servent/configs"
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
