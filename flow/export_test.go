package flow

import (
	"fmt"
	"os"

	"github.com/loopyring/loopyring/affinity"
)

// WithTopology makes the graph see t as the host's CPUs, for placement and for Auto's
// choice of mode.
func WithTopology(t affinity.Topology) GraphOption {
	return func(o *graphOptions) { o.topology = &t }
}

// LOOPYRING_FLOW_MODE=dedicated (or shared) runs the whole suite with every graph in that
// mode unless a test says otherwise: the README's test command runs it once per mode.
func init() {
	switch m := os.Getenv("LOOPYRING_FLOW_MODE"); m {
	case "", "auto":
	case "dedicated":
		defaultGraphMode = Dedicated
	case "shared":
		defaultGraphMode = Shared
	default:
		panic(fmt.Sprintf("flow tests: LOOPYRING_FLOW_MODE=%q: want auto, dedicated or shared", m))
	}
}
