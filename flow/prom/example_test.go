package prom_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/prom"
)

// A graph's collector registered in a registry that promhttp serves. A program would serve
// the handler with http.Handle("/metrics", ...) and leave the graph running; here a test
// server takes one scrape after the graph has drained.
func Example() {
	g := flow.New()
	in := flow.Input[string](g, flow.Name("lines"))
	in.Then(1, strings.ToUpper, flow.Name("upper")).
		Sink(1, func(string) {}, flow.Name("store"))

	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(g, "orders"))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	if err := g.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range []string{"ada 250", "bob 100", "cy 7"} {
		_ = in.Publish(context.Background(), line)
	}
	if err := g.Stop(); err != nil {
		fmt.Println(err)
	}

	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "loopyring_stage_entries_") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// loopyring_stage_entries_handled_total{graph="orders",level="store",stage="0"} 3
	// loopyring_stage_entries_handled_total{graph="orders",level="upper",stage="0"} 3
	// loopyring_stage_entries_in_total{graph="orders",level="store",stage="0"} 3
	// loopyring_stage_entries_in_total{graph="orders",level="upper",stage="0"} 3
	// loopyring_stage_entries_out_total{graph="orders",level="store",stage="0"} 0
	// loopyring_stage_entries_out_total{graph="orders",level="upper",stage="0"} 3
}
