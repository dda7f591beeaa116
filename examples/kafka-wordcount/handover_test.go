package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
)

const testPartitions = 6

// TestWorkersShareAndHandOverPartitions runs what the README's three terminals run, in one
// process: the broker's cluster, worker A, then worker B in the same group, then a clean
// stop of A (as Ctrl-C does). A third of a known text is produced before B joins, a third
// while both run, and a third after A left. The group splits the partitions between the
// two; once A has left, B commits every partition, those it did not own at first included,
// and prints that it owns them all. The counts on the output topic account for every word
// of the text: at least once always, and exactly once here, since A's revoke and A's stop
// drain the graph and commit before the partitions move, unless a commit failed or a
// revoke did not drain in time (then the lines since the last commit were counted again).
func TestWorkersShareAndHandOverPartitions(t *testing.T) {
	n := scale(3000, 600)
	mk := newLineMaker(7)
	text := make([]string, n)
	for i := range text {
		text[i] = mk.line()
	}
	want := referenceCount(text)

	c, err := newCluster(brokerConfig{Nodes: 3, Partitions: testPartitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers := c.ListenAddrs()
	ctx := context.Background()
	p, err := newProducer(ctx, brokers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	adm := kadm.NewClient(p.cl)
	produce := func(lines []string) {
		t.Helper()
		if err := p.produce(ctx, lines); err != nil {
			t.Fatal(err)
		}
	}

	a := startWorker(t, brokers, "a")
	produce(text[:n/3])
	waitFor(t, "A to commit the first third", func() bool { return a.committed() == int64(n/3) })

	b := startWorker(t, brokers, "b")
	var first []int32 // B's partitions while both run
	waitFor(t, "A and B to share the partitions", func() bool {
		pa, state, members, err := owned(ctx, adm, defaultGroup, "a")
		if err != nil {
			t.Fatal(err)
		}
		first, _, _, _ = owned(ctx, adm, defaultGroup, "b")
		return state == "Stable" && members == 2 && len(pa) > 0 && len(first) > 0 &&
			len(pa)+len(first) == testPartitions
	})
	produce(text[n/3 : 2*n/3])
	waitFor(t, "B to commit", func() bool { return b.committed() > 0 })
	before := b.commit.partitions()

	stopWorker(t, a)
	produce(text[2*n/3:])
	waitCommittedAtEnd(t, adm)
	all := formatParts([]int32{0, 1, 2, 3, 4, 5})
	waitFor(t, "B to print that it owns "+all, func() bool {
		return strings.Contains(b.out.String(), "b: partitions now "+all)
	})
	stopWorker(t, b)

	t.Logf("B owned %v at first, had committed %v before A stopped, and %v in the end", first, before, b.commit.partitions())
	if i := slices.IndexFunc(before, func(p int32) bool { return !slices.Contains(first, p) }); i >= 0 {
		t.Errorf("B committed partition %d before A left, but did not own it", before[i])
	}
	if got := b.commit.partitions(); len(got) != testPartitions {
		t.Errorf("B committed partitions %v; want all %d once A left", got, testPartitions)
	}
	for _, w := range []*testWorker{a, b} {
		if !strings.Contains(w.out.String(), w.name+": stopped;") {
			t.Errorf("worker %s did not report its stop:\n%s", w.name, w.out.String())
		}
	}

	counts, records, err := readTotals(ctx, brokers)
	if err != nil {
		t.Fatal(err)
	}
	fa, _ := a.commit.failures()
	fb, _ := b.commit.failures()
	t.Logf("%d lines, %d distinct words; %d count records; %d failed commits or drains", n, len(want), records, fa+fb)
	for w, wn := range want {
		switch got := counts[w]; {
		case got < wn:
			t.Errorf("%q counted %d times; the text has it %d times", w, got, wn)
		case got > wn && fa+fb == 0:
			t.Errorf("%q counted %d times, the text has it %d times, and every commit succeeded", w, got, wn)
		}
	}
	for w := range counts {
		if _, ok := want[w]; !ok {
			t.Errorf("%q counted %d times; the text does not have it", w, counts[w])
		}
	}
	if t.Failed() {
		t.Logf("A printed:\n%s\nB printed:\n%s", a.out.String(), b.out.String())
	}
}

// waitCommittedAtEnd waits until the group has committed the end of every partition of the
// input topic.
func waitCommittedAtEnd(t *testing.T, adm *kadm.Client) {
	t.Helper()
	waitFor(t, "the group to commit the end of "+inputTopic, func() bool {
		ctx := context.Background()
		ends, err := adm.ListEndOffsets(ctx, inputTopic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := adm.FetchOffsets(ctx, defaultGroup)
		if err == nil {
			err = got.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
		at := true
		ends.Each(func(o kadm.ListedOffset) {
			if c, ok := got.Lookup(inputTopic, o.Partition); !ok || c.At != o.Offset {
				at = false
			}
		})
		return at
	})
}

// TestUnreachableBrokerIsNamed: the commands fail at once, naming the address, when no broker
// listens there.
func TestUnreachableBrokerIsNamed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx := context.Background()
	cfg := defaultWorker
	cfg.Brokers = []string{addr}
	errs := map[string]error{"worker": runWorker(ctx, &syncBuffer{}, cfg)}
	_, _, errs["totals"] = readTotals(ctx, []string{addr})
	_, errs["produce"] = newProducer(ctx, []string{addr})
	for cmd, err := range errs {
		if err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: %v; want an error naming %s", cmd, err, addr)
		}
	}
}

// TestBrokerPortInUseIsAnError: a broker command whose port is taken says so.
func TestBrokerPortInUseIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	err = runBroker(context.Background(), &syncBuffer{}, brokerConfig{Port: port, Nodes: 1, Partitions: 1, Rate: 1, Every: 1})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("broker on a taken port %d: %v", port, err)
	}
}

// TestProduceSkipsLinesWithoutWords: produce writes a record per line that holds a word,
// and counts what the broker has.
func TestProduceSkipsLinesWithoutWords(t *testing.T) {
	c, err := newCluster(brokerConfig{Nodes: 1, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	p, err := newProducer(ctx, c.ListenAddrs())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	lines, words, err := produceFrom(ctx, p, strings.NewReader("One two, THREE.\r\n\n  --  \nfour\n5 six"))
	if err != nil || lines != 3 || words != 6 {
		t.Fatalf("produced %d lines, %d words, %v; want 3, 6, nil", lines, words, err)
	}
	ends, err := kadm.NewClient(p.cl).ListEndOffsets(ctx, inputTopic)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 3 {
		t.Fatalf("%d records on %s; want 3", total, inputTopic)
	}
}
