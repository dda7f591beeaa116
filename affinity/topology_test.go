package affinity

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// linuxTree returns a sysfs-like tree for pkgs packages of cores cores with
// threads threads each, numbered the way Linux numbers x86 machines: all first
// threads (package by package), then all second threads. On 1×4×2, cpu0 and
// cpu4 share core 0; on 2×24×2, cpu0 and cpu48 share core 0 of package 0 and
// cpu24 is core 0 of package 1.
func linuxTree(pkgs, cores, threads int) (fstest.MapFS, []int) {
	fsys := fstest.MapFS{}
	var ids []int
	for th := range threads {
		for p := range pkgs {
			for c := range cores {
				id := th*pkgs*cores + p*cores + c
				dir := fmt.Sprintf("cpu%d/topology/", id)
				fsys[dir+"core_id"] = &fstest.MapFile{Data: fmt.Appendf(nil, "%d\n", c)}
				fsys[dir+"physical_package_id"] = &fstest.MapFile{Data: fmt.Appendf(nil, "%d\n", p)}
				ids = append(ids, id)
			}
		}
	}
	return fsys, ids
}

// linuxTopology is the Topology that LoadTopology should make of linuxTree,
// written out independently of LoadTopology.
func linuxTopology(pkgs, cores, threads int) Topology {
	n := pkgs * cores * threads
	t := Topology{CPUs: make([]CPU, n)}
	for id := range n {
		t.CPUs[id] = CPU{ID: id, Core: id % cores, Package: id / cores % pkgs}
	}
	return t
}

// mustLoad loads the topology of linuxTree(pkgs, cores, threads).
func mustLoad(t testing.TB, pkgs, cores, threads int) Topology {
	t.Helper()
	fsys, ids := linuxTree(pkgs, cores, threads)
	return mustLoadFS(t, fsys, ids)
}

// mustLoadFS returns LoadTopology(fsys, cpus) and fails the test on an error.
func mustLoadFS(t testing.TB, fsys fs.FS, cpus []int) Topology {
	t.Helper()
	topo, err := LoadTopology(fsys, cpus)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestLoadTopology(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		cpus []int
		want []CPU
	}{
		{"nosmt2", "testdata/nosmt2", []int{1, 0}, []CPU{{0, 0, 0}, {1, 1, 0}}},
		{"smt8", "testdata/smt8", []int{0, 1, 2, 3, 4, 5, 6, 7}, linuxTopology(1, 4, 2).CPUs},
		{"smt8/subset", "testdata/smt8", []int{6, 2, 2, 4}, []CPU{{2, 2, 0}, {4, 0, 0}, {6, 2, 0}}},
		{"notopology", "testdata/notopology", []int{0, 1, 2}, []CPU{{0, 0, 0}, {1, 1, 0}, {2, 2, 0}}},
		// cpu9 has no directory at all, so no CPU keeps its real core id:
		// a made-up id next to real ones could fake an SMT pair.
		{"smt8/mixed", "testdata/smt8", []int{5, 9}, []CPU{{5, 5, 0}, {9, 9, 0}}},
		{"empty", "testdata/smt8", nil, []CPU{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLoadFS(t, os.DirFS(tt.dir), tt.cpus)
			if diff := cmp.Diff(tt.want, got.CPUs); diff != "" {
				t.Errorf("LoadTopology(%s, %v) mismatch (-want +got):\n%s", tt.dir, tt.cpus, diff)
			}
		})
	}
}

func TestLoadTopologyMapFS(t *testing.T) {
	for _, shape := range [][3]int{{1, 2, 1}, {1, 4, 2}, {2, 24, 2}, {4, 3, 4}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			got := mustLoad(t, shape[0], shape[1], shape[2])
			if diff := cmp.Diff(linuxTopology(shape[0], shape[1], shape[2]), got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadTopologySMT8MatchesTree ties the on-disk testdata tree to the
// generated one, so the plans tested on either describe the same machine.
func TestLoadTopologySMT8MatchesTree(t *testing.T) {
	disk := mustLoadFS(t, os.DirFS("testdata/smt8"), []int{0, 1, 2, 3, 4, 5, 6, 7})
	if diff := cmp.Diff(mustLoad(t, 1, 4, 2), disk); diff != "" {
		t.Errorf("testdata/smt8 differs from linuxTree(1, 4, 2) (-tree +disk):\n%s", diff)
	}
}

func TestLoadTopologyUnknownIDs(t *testing.T) {
	fsys := fstest.MapFS{
		// The kernel writes -1 for a package it cannot name.
		"cpu0/topology/core_id":             {Data: []byte("0\n")},
		"cpu0/topology/physical_package_id": {Data: []byte("-1\n")},
		"cpu1/topology/core_id":             {Data: []byte("0\n")},
		"cpu3/topology/core_id":             {Data: []byte("1\n")},
		"cpu3/topology/physical_package_id": {Data: []byte("1\n")},
	}
	want := []CPU{{0, 0, 0}, {1, 0, 0}, {3, 1, 1}}
	if diff := cmp.Diff(want, mustLoadFS(t, fsys, []int{0, 1, 3}).CPUs); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}

	fsys["cpu1/topology/core_id"] = &fstest.MapFile{Data: []byte("-1\n")}
	want = []CPU{{0, 0, 0}, {1, 1, 0}, {3, 3, 1}}
	if diff := cmp.Diff(want, mustLoadFS(t, fsys, []int{0, 1, 3}).CPUs); diff != "" {
		t.Errorf("one unknown core_id: mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadTopologyErrors(t *testing.T) {
	fsys := fstest.MapFS{
		"cpu0/topology/core_id":             {Data: []byte("zero\n")},
		"cpu1/topology/core_id":             {Data: []byte("1\n")},
		"cpu1/topology/physical_package_id": {Data: []byte("")},
		"cpu2/topology":                     {Mode: 0o755 | os.ModeDir},
		"cpu2/topology/core_id":             {Mode: 0o755 | os.ModeDir}, // a directory where a file belongs
	}
	tests := []struct {
		name string
		cpus []int
		want string
	}{
		{"negative", []int{3, -2}, "negative cpu -2"},
		{"huge", []int{1 << 20}, "cpu 1048576 is beyond"},
		{"not a number", []int{0}, `cpu0/topology/core_id holds "zero"`},
		{"empty file", []int{1}, `physical_package_id holds ""`},
		{"unreadable", []int{2}, "cpu2/topology/core_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadTopology(fsys, tt.cpus)
			if err == nil {
				t.Fatalf("LoadTopology(%v) = %v; want an error", tt.cpus, got)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "affinity: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q; want the package prefix and %q", msg, tt.want)
			}
		})
	}
}
