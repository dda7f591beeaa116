package main

import (
	"fmt"
	"runtime"
	"testing"
)

// TestDefaultStages: the middle levels are one stage wide until every stage of the full
// topology can have a CPU, and the default config follows the CPUs Go may use.
func TestDefaultStages(t *testing.T) {
	tests := []struct {
		cpus int
		want [3]int
	}{
		{1, [3]int{1, 1, 1}},
		{2, [3]int{1, 1, 1}},
		{8, [3]int{1, 1, 1}},
		{9, [3]int{2, 4, 2}},
		{64, [3]int{2, 4, 2}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.cpus), func(t *testing.T) {
			p, w, r := defaultStages(tt.cpus)
			if got := [3]int{p, w, r}; got != tt.want {
				t.Errorf("defaultStages(%d) = %v, want %v", tt.cpus, got, tt.want)
			}
		})
	}
	cfg := defaultConfig()
	p, w, r := defaultStages(runtime.GOMAXPROCS(0))
	if cfg.parsers != p || cfg.workers != w || cfg.repliers != r || cfg.listeners != 1 {
		t.Errorf("defaultConfig with GOMAXPROCS %d has %d/%d/%d/%d stages, want 1/%d/%d/%d",
			runtime.GOMAXPROCS(0), cfg.listeners, cfg.parsers, cfg.workers, cfg.repliers, p, w, r)
	}
}
