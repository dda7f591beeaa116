package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func totalsMain(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("totals", flag.ExitOnError)
	brokers := fs.String("brokers", defaultSeed, "seed brokers, comma-separated")
	top := fs.Int("top", 10, "how many words to print")
	_ = fs.Parse(args)
	counts, records, err := readTotals(ctx, splitBrokers(*brokers))
	if err != nil {
		return err
	}
	words := int64(0)
	all := make([]string, 0, len(counts))
	for w, n := range counts {
		words += n
		all = append(all, w)
	}
	slices.SortFunc(all, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	fmt.Fprintf(w, "%d records on %s: %d words, %d distinct\n", records, outputTopic, words, len(counts))
	for _, word := range all[:min(max(*top, 0), len(all))] {
		fmt.Fprintf(w, "%8d %s\n", counts[word], word)
	}
	return nil
}

// readTotals reads the output topic from its start to the end it has when called, and sums
// each word's records. It returns the sums and how many records it read.
func readTotals(ctx context.Context, brokers []string) (map[string]int64, int64, error) {
	cl, err := connect(ctx, brokers,
		kgo.ConsumeTopics(outputTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, outputTopic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("end offsets of %s: %w", outputTopic, err)
	}
	left := map[int32]int64{} // per partition still to read, its end
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	counts := map[string]int64{}
	records := int64(0)
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		for _, fe := range fs.Errors() {
			return nil, 0, fmt.Errorf("read %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
		}
		for _, r := range fs.Records() {
			end, ok := left[r.Partition]
			if !ok || r.Offset >= end {
				continue // written after the call
			}
			n, err := strconv.ParseInt(string(r.Value), 10, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("record %s/%d@%d: value %q is not a count", r.Topic, r.Partition, r.Offset, r.Value)
			}
			counts[string(r.Key)] += n
			records++
			if r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		}
	}
	return counts, records, nil
}
