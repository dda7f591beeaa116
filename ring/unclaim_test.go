package ring_test

import (
	"testing"

	"github.com/loopyring/loopyring/ring"
)

func TestUnclaimGivesBackTheUnfilledTail(t *testing.T) {
	b, err := ring.New[int](8, ring.WithStart(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	lo, ok := b.TryClaim(6)
	if !ok {
		t.Fatal("TryClaim(6) on an empty ring failed")
	}
	for i := range 2 {
		*b.At(lo + int64(i)) = i
	}
	b.Commit(lo, 2) // a prefix of the claim
	if !b.Unclaim(lo + 2) {
		t.Fatal("Unclaim on an open ring failed")
	}
	next, ok := b.TryClaim(1)
	if !ok || next != lo+2 {
		t.Fatalf("claim after Unclaim: %d, %v; want %d, true", next, ok, lo+2)
	}
	*b.At(next) = 2
	b.Commit(next, 1)
	rlo, rhi, ok := r.TryRead()
	if !ok || rlo != lo || rhi != lo+3 {
		t.Fatalf("TryRead: [%d, %d) %v; want [%d, %d)", rlo, rhi, ok, lo, lo+3)
	}
	for s := rlo; s < rhi; s++ {
		if got := *b.At(s); got != int(s-lo) {
			t.Fatalf("slot %d holds %d, want %d", s, got, s-lo)
		}
	}
	r.Release(rhi)
	b.Close()
	if !r.Drained() {
		t.Fatal("reader not drained: an unclaimed slot still counts as claimed")
	}
}

func TestUnclaimAfterCloseKeepsTheClaim(t *testing.T) {
	b, _ := ring.New[int](4)
	r, _ := b.NewReader()
	lo, _ := b.TryClaim(3)
	b.Close()
	if b.Unclaim(lo) {
		t.Fatal("Unclaim succeeded on a closed ring")
	}
	if r.Drained() {
		t.Fatal("drained while claimed slots are uncommitted")
	}
	b.Commit(lo, 3)
	_, hi, _ := r.TryRead()
	r.Release(hi)
	if !r.Drained() {
		t.Fatal("not drained after the claims were committed and read")
	}
}

func TestUnclaimMisusePanics(t *testing.T) {
	multi, _ := ring.New[int](4, ring.MultiPublisher())
	single, _ := ring.New[int](4)
	lo, _ := single.TryClaim(2)
	single.Commit(lo, 1)
	for name, f := range map[string]func(){
		"multi":          func() { multi.Unclaim(0) },
		"below commit":   func() { single.Unclaim(lo) },
		"beyond claimed": func() { single.Unclaim(lo + 3) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
	if !single.Unclaim(lo + 2) { // the end of the claims: nothing to give back
		t.Fatal("Unclaim at the end of the claims failed")
	}
}
