package ring_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/loopyring/loopyring/ring"
)

func TestNewCapacity(t *testing.T) {
	tests := []struct {
		capacity int
		wantErr  string // "" for success
	}{
		{0, "capacity 0"},
		{-1, "capacity -1"},
		{1, "capacity 1"},
		{3, "capacity 3 is not a power of two"},
		{6, "capacity 6 is not a power of two"},
		{math.MaxInt, "capacity " + fmtInt(math.MaxInt)}, // 1<<31 would not compile for 32-bit int
		{1<<30 + 1, "capacity 1073741825"},
		{2, ""},
		{4, ""},
		{1024, ""},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(strings.TrimSpace(fmtInt(tt.capacity)), "-", "neg"), func(t *testing.T) {
			b, err := ring.New[int](tt.capacity)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New(%d): %v", tt.capacity, err)
				}
				if b.Cap() != tt.capacity {
					t.Fatalf("Cap() = %d, want %d", b.Cap(), tt.capacity)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%d) succeeded, want error containing %q", tt.capacity, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "ring: ") {
				t.Fatalf("New(%d) error %q, want it to contain %q", tt.capacity, err, tt.wantErr)
			}
		})
	}
}

// TestNewTooLarge: a capacity the checks allow, of entries large enough that the slots
// would take more memory than the runtime can allocate at once, made New panic inside
// make (and Start of a flow graph with it). It is an error, for both kinds of ring.
func TestNewTooLarge(t *testing.T) {
	type huge [1 << 20]byte
	for _, opts := range [][]ring.Option{nil, {ring.MultiPublisher()}, {ring.MultiPublisher(), ring.Fenced()}} {
		b, err := ring.New[huge](1<<30, opts...)
		if err == nil || b != nil || !strings.Contains(err.Error(), "1073741824 slots of 10485") || !strings.HasPrefix(err.Error(), "ring: ") {
			t.Fatalf("New of 1<<30 slots of 1 MiB (%d options): %v, %v; want a nil ring and an error naming the sizes", len(opts), b, err)
		}
	}
	if _, err := ring.New[[4096]byte](1 << 16); err != nil {
		t.Fatalf("New of 1<<16 slots of 4 KiB: %v", err)
	}
}

func TestNewReaderErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, b, other *ring.Buffer[int]) []ring.ReaderOption
		wantErr string
		is      error
	}{
		{
			name: "max batch 0",
			setup: func(*testing.T, *ring.Buffer[int], *ring.Buffer[int]) []ring.ReaderOption {
				return []ring.ReaderOption{ring.MaxBatch(0)}
			},
			wantErr: "max batch 0",
		},
		{
			name: "max batch negative",
			setup: func(*testing.T, *ring.Buffer[int], *ring.Buffer[int]) []ring.ReaderOption {
				return []ring.ReaderOption{ring.MaxBatch(-5)}
			},
			wantErr: "max batch -5",
		},
		{
			name: "after reader of another ring",
			setup: func(t *testing.T, _, other *ring.Buffer[int]) []ring.ReaderOption {
				return []ring.ReaderOption{ring.After(mustReader(t, other))}
			},
			wantErr: "another ring",
		},
		{
			name: "after nil reader",
			setup: func(*testing.T, *ring.Buffer[int], *ring.Buffer[int]) []ring.ReaderOption {
				return []ring.ReaderOption{ring.After(nil)}
			},
			wantErr: "nil",
		},
		{
			name: "after publishing started",
			setup: func(t *testing.T, b, _ *ring.Buffer[int]) []ring.ReaderOption {
				mustReader(t, b)
				if _, ok := b.TryClaim(1); !ok {
					t.Fatal("TryClaim failed on an empty ring")
				}
				return nil
			},
			wantErr: "ring: reader added after publishing started",
		},
		{
			name: "after close",
			setup: func(t *testing.T, b, _ *ring.Buffer[int]) []ring.ReaderOption {
				b.Close()
				return nil
			},
			wantErr: "closed",
			is:      ring.ErrClosed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, multi := range []bool{false, true} {
				var opts []ring.Option
				if multi {
					opts = append(opts, ring.MultiPublisher())
				}
				b := mustNew[int](t, 8, opts...)
				other := mustNew[int](t, 8)
				r, err := b.NewReader(tt.setup(t, b, other)...)
				if err == nil {
					t.Fatalf("multi=%v: NewReader succeeded (%p), want error containing %q", multi, r, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("multi=%v: error %q, want it to contain %q", multi, err, tt.wantErr)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Fatalf("multi=%v: error %q is not %v", multi, err, tt.is)
				}
			}
		})
	}
}

func TestMisusePanics(t *testing.T) {
	tests := []struct {
		name string
		f    func(b *ring.Buffer[int], r *ring.Reader)
	}{
		{"claim 0", func(b *ring.Buffer[int], _ *ring.Reader) { b.TryClaim(0) }},
		{"claim above capacity", func(b *ring.Buffer[int], _ *ring.Reader) { b.TryClaim(9) }},
		{"commit unclaimed", func(b *ring.Buffer[int], _ *ring.Reader) { b.Commit(0, 1) }},
		{"commit out of order", func(b *ring.Buffer[int], _ *ring.Reader) {
			b.TryClaim(1)
			b.TryClaim(1)
			b.Commit(1, 1)
		}},
		{"commit past the claims", func(b *ring.Buffer[int], _ *ring.Reader) {
			lo, _ := b.TryClaim(2)
			b.Commit(lo, 3)
		}},
		{"commit so long that its end overflows", func(b *ring.Buffer[int], _ *ring.Reader) {
			lo, _ := b.TryClaim(1)
			b.Commit(lo, 1)
			lo, _ = b.TryClaim(1)
			b.Commit(lo, math.MaxInt) // lo+n wraps negative: must not pass as "below the claims"
		}},
		{"release unread", func(b *ring.Buffer[int], r *ring.Reader) {
			lo, _ := b.TryClaim(2)
			b.Commit(lo, 2)
			r.Release(lo + 1) // nothing was read yet
		}},
		{"negative phases", func(*ring.Buffer[int], *ring.Reader) { ring.NewPhasedWaiter(-1, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew[int](t, 8)
			r := mustReader(t, b)
			defer func() {
				v := recover()
				s, _ := v.(string)
				if !strings.HasPrefix(s, "ring: ") {
					t.Fatalf("recovered %v, want a panic prefixed with \"ring: \"", v)
				}
			}()
			tt.f(b, r)
		})
	}
}

// A refused commit changes nothing: what was committed before stays readable, and
// the publisher can go on committing what it did claim.
func TestRefusedCommitKeepsTheRing(t *testing.T) {
	for _, n := range []int{3, math.MaxInt} {
		b := mustNew[int](t, 8)
		r := mustReader(t, b)
		lo, _ := b.TryClaim(1)
		*b.At(lo) = 7
		b.Commit(lo, 1)
		lo, _ = b.TryClaim(1)
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("Commit(%d, %d) with one slot claimed did not panic", lo, n)
				}
			}()
			b.Commit(lo, n)
		}()
		if rlo, rhi, ok := r.TryRead(); !ok || rlo != 0 || rhi != 1 || *b.At(0) != 7 {
			t.Fatalf("n=%d: after the refused commit TryRead = [%d, %d), %v", n, rlo, rhi, ok)
		}
		b.Commit(lo, 1)
		r.Release(1)
		if rlo, rhi, ok := r.TryRead(); !ok || rlo != 1 || rhi != 2 {
			t.Fatalf("n=%d: the claimed slot's commit gave TryRead = [%d, %d), %v", n, rlo, rhi, ok)
		}
	}
}

// TestClaimSizePanics checks that Claim and TryClaim refuse a size outside
// 1..Cap() with a ring: panic, on either kind of ring, open or closed, and
// that the refusal leaves the ring as it was: nothing claimed, and the next
// claim of a valid size starts where it would have.
func TestClaimSizePanics(t *testing.T) {
	const capacity = 8
	claims := map[string]func(b *ring.Buffer[int], n int){
		"Claim":    func(b *ring.Buffer[int], n int) { _, _ = b.Claim(context.Background(), n) },
		"TryClaim": func(b *ring.Buffer[int], n int) { _, _ = b.TryClaim(n) },
	}
	sizes := []int{0, -1, capacity + 1, 2 * capacity, math.MinInt, math.MaxInt}
	for _, m := range publisherModes() {
		for name, claim := range claims {
			for _, closed := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/closed=%v", m.name, name, closed), func(t *testing.T) {
					b := mustNew[int](t, capacity, m.opts...)
					r := mustReader(t, b)
					lo, _ := b.TryClaim(3)
					b.Commit(lo, 3)
					if closed {
						b.Close()
					}
					for _, n := range sizes {
						func() {
							defer func() {
								s, _ := recover().(string)
								if !strings.HasPrefix(s, "ring: claim of ") {
									t.Errorf("%s(%d): recovered %q, want a \"ring: claim of\" panic", name, n, s)
								}
							}()
							claim(b, n)
						}()
					}
					if closed {
						if _, ok := b.TryClaim(1); ok {
							t.Fatal("TryClaim succeeded on a closed ring")
						}
						return
					}
					if lo, ok := b.TryClaim(capacity - 3); !ok || lo != 3 {
						t.Fatalf("TryClaim(%d) after the refused claims = %d, %v; want 3, true", capacity-3, lo, ok)
					}
					b.Commit(3, capacity-3)
					if lo, hi, ok := r.TryRead(); !ok || lo != 0 || hi != capacity {
						t.Fatalf("TryRead = [%d, %d), %v; want [0, %d)", lo, hi, ok, capacity)
					}
				})
			}
		}
	}
}
