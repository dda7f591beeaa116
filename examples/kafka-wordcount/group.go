package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
)

// owned asks the cluster which partitions of the input topic the group's members named
// name (by their client ID) are assigned, and returns them sorted, with the group's state
// and member count. The connector keeps the group's rebalance callbacks for itself, so a
// worker learns its assignment the way an operator would, by describing the group.
func owned(ctx context.Context, adm *kadm.Client, group, name string) (parts []int32, state string, members int, err error) {
	ds, err := adm.DescribeGroups(ctx, group)
	if err == nil {
		err = ds.Error()
	}
	if err != nil {
		return nil, "", 0, fmt.Errorf("describe group %s: %w", group, err)
	}
	d := ds[group]
	for _, m := range d.Members {
		if m.ClientID != name {
			continue
		}
		a, ok := m.Assigned.AsConsumer()
		if !ok {
			continue
		}
		for _, t := range a.Topics {
			if t.Topic == inputTopic {
				parts = append(parts, t.Partitions...)
			}
		}
	}
	slices.Sort(parts)
	return parts, d.State, len(d.Members), nil
}

// commits is what a worker's consumer committed: per partition of the input topic, the
// offset the group reads next. OnCommit writes it (on the consumer's goroutines, one call
// at a time); the status reads it.
type commits struct {
	mu     sync.Mutex
	at     map[int32]int64
	failed int // commits that failed, and revokes whose records did not finish in time
	last   error
}

func newCommits() *commits { return &commits{at: map[int32]int64{}} }

func (c *commits) record(offsets map[string]map[int32]int64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failed++
		c.last = err
	}
	for p, at := range offsets[inputTopic] {
		c.at[p] = max(c.at[p], at)
	}
}

// format returns "p:offset" for each partition of parts, "p:-" for one not committed.
func (c *commits) format(parts []int32) string {
	if len(parts) == 0 {
		return "none"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fs := make([]string, len(parts))
	for i, p := range parts {
		at, ok := c.at[p]
		fs[i] = strconv.Itoa(int(p)) + ":-"
		if ok {
			fs[i] = strconv.Itoa(int(p)) + ":" + strconv.FormatInt(at, 10)
		}
	}
	return strings.Join(fs, " ")
}

// partitions returns the partitions committed, sorted.
func (c *commits) partitions() []int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.at))
}

// failures returns how many commits failed, and the last failure.
func (c *commits) failures() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed, c.last
}

// formatParts writes partitions as the README shows them: lines[0 1 2], or none.
func formatParts(parts []int32) string {
	if len(parts) == 0 {
		return "none"
	}
	fs := make([]string, len(parts))
	for i, p := range parts {
		fs[i] = strconv.Itoa(int(p))
	}
	return inputTopic + "[" + strings.Join(fs, " ") + "]"
}
