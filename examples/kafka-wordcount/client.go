package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// dialTimeout bounds a command's first contact with the cluster.
const dialTimeout = 5 * time.Second

// connect makes a client of the cluster at brokers and checks that a broker answers within
// dialTimeout, so that a command started before the broker fails at once with the address
// it tried, rather than retrying in the background.
func connect(ctx context.Context, brokers []string, opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("client of %s: %w", strings.Join(brokers, ","), err)
	}
	pctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach a broker at %s (is 'kafka-wordcount broker' running?): %w",
			strings.Join(brokers, ","), err)
	}
	return cl, nil
}

// splitBrokers turns the -brokers flag into addresses.
func splitBrokers(s string) []string {
	var out []string
	for a := range strings.SplitSeq(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
