package affinity

import (
	"os"
	"slices"
	"strings"
	"testing"
)

var cpuListTests = []struct {
	in   string
	want []int
	err  string // substring of the error; "" means success
	out  string // formatCPUList(want); "" means the same as in
}{
	{in: "0", want: []int{0}},
	{in: "0-3", want: []int{0, 1, 2, 3}},
	{in: "0-1\n", want: []int{0, 1}, out: "0-1"},
	{in: "0-3,8,10-11", want: []int{0, 1, 2, 3, 8, 10, 11}},
	{in: "4,5", want: []int{4, 5}, out: "4-5"},
	{in: "7,0-2,1", want: []int{0, 1, 2, 7}, out: "0-2,7"},
	{in: "3-3", want: []int{3}, out: "3"},
	{in: "", want: nil, out: "none"},
	{in: "\n", want: nil, out: "none"},
	{in: "1-", err: `bad cpu number ""`},
	{in: "-1", err: `bad cpu number ""`},
	{in: "+1", err: `bad cpu number "+1"`},
	{in: "a", err: `bad cpu number "a"`},
	{in: "0,,1", err: `bad cpu number ""`},
	{in: "5-2", err: "range 5-2 is reversed"},
	{in: "0-99999999999", err: "bad cpu number"},
	{in: "65536", err: "bad cpu number"},
}

func TestParseCPUList(t *testing.T) {
	for _, tt := range cpuListTests {
		t.Run(strings.TrimSpace(tt.in), func(t *testing.T) {
			got, err := parseCPUList(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseCPUList(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("parseCPUList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			want := tt.out
			if want == "" {
				want = tt.in
			}
			if s := formatCPUList(got); s != want {
				t.Errorf("formatCPUList(%v) = %q; want %q", got, s, want)
			}
		})
	}
}

func TestReadCPUList(t *testing.T) {
	got, err := readCPUList(os.DirFS("testdata/smt8"), "online")
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7}; err != nil || !slices.Equal(got, want) {
		t.Errorf("readCPUList(smt8) = %v, %v; want %v", got, err, want)
	}
	if _, err := readCPUList(os.DirFS("testdata/smt8"), "possible"); err == nil {
		t.Error("readCPUList of a missing file: no error")
	}
}

// FuzzParseCPUList checks that whatever parses is sorted and unique and
// survives a round trip through formatCPUList.
func FuzzParseCPUList(f *testing.F) {
	for _, tt := range cpuListTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		cpus, err := parseCPUList(in)
		if err != nil {
			return
		}
		for i := 1; i < len(cpus); i++ {
			if cpus[i-1] >= cpus[i] {
				t.Fatalf("parseCPUList(%q) = %v: not sorted and unique", in, cpus)
			}
		}
		if len(cpus) == 0 {
			return
		}
		s := formatCPUList(cpus)
		again, err := parseCPUList(s)
		if err != nil || !slices.Equal(again, cpus) {
			t.Fatalf("round trip %q -> %v -> %q -> %v, %v", in, cpus, s, again, err)
		}
	})
}
