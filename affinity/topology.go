package affinity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// sysCPUDir is where Linux describes its CPUs. ReadTopology reads it through
// an fs.FS so that LoadTopology, which tests feed with synthetic trees, is the
// only parser.
const sysCPUDir = "/sys/devices/system/cpu"

// A CPU is one logical CPU (one hardware thread) and where it sits.
type CPU struct {
	ID      int // the kernel's CPU number, as passed to Pin
	Core    int // physical core id within Package; equal Package and Core mean SMT siblings
	Package int // physical package (socket) id
}

// A Topology lists the CPUs that plans may use, sorted by ID. The zero value is
// an empty topology: it plans None, and every other policy fails on it.
//
// A Topology built by hand (for tests, or to plan for another machine) need not
// be sorted, but it must not list a CPU twice or a negative ID; Plan checks.
type Topology struct {
	CPUs []CPU
}

// ReadTopology returns the topology of the CPUs this process may run on
// ([Allowed]), read from /sys/devices/system/cpu/cpuN/topology. Where the
// kernel does not describe a CPU's core, every CPU counts as its own core (see
// [LoadTopology]). Where Allowed is unsupported, so is ReadTopology: a plan
// that could not be pinned would only fail later and more obscurely.
func ReadTopology() (Topology, error) {
	cpus, err := allowedCPUs()
	if err != nil {
		return Topology{}, fmt.Errorf("affinity: read topology: %w", err)
	}
	return LoadTopology(os.DirFS(sysCPUDir), cpus)
}

// LoadTopology reads the topology of cpus from fsys, a tree laid out like
// /sys/devices/system/cpu: for each CPU n it reads cpuN/topology/core_id and
// cpuN/topology/physical_package_id. cpus may be unsorted and hold duplicates;
// the result is sorted by ID and holds each CPU once.
//
// Missing information is not an error, because containers, some virtual
// machines and some architectures omit it or write -1:
//   - a missing or negative physical_package_id puts the CPU on package 0;
//   - if any CPU lacks a usable core_id, every CPU becomes a core of its own
//     (Core = ID). Mixing real core ids with made-up ones could make two
//     unrelated CPUs look like SMT siblings, so it is all or nothing.
//
// A file that exists but does not hold a number is an error.
func LoadTopology(fsys fs.FS, cpus []int) (Topology, error) {
	ids := sortedSet(cpus)
	if len(ids) > 0 && ids[0] < 0 {
		return Topology{}, fmt.Errorf("affinity: load topology: negative cpu %d", ids[0])
	}
	if len(ids) > 0 && ids[len(ids)-1] >= maxCPU {
		return Topology{}, fmt.Errorf("affinity: load topology: cpu %d is beyond the supported %d", ids[len(ids)-1], maxCPU)
	}
	t := Topology{CPUs: make([]CPU, len(ids))}
	coresKnown := true
	for i, id := range ids {
		dir := path.Join("cpu"+strconv.Itoa(id), "topology")
		core, ok, err := readTopologyID(fsys, path.Join(dir, "core_id"))
		if err != nil {
			return Topology{}, err
		}
		coresKnown = coresKnown && ok
		pkg, ok, err := readTopologyID(fsys, path.Join(dir, "physical_package_id"))
		if err != nil {
			return Topology{}, err
		}
		if !ok {
			pkg = 0
		}
		t.CPUs[i] = CPU{ID: id, Core: core, Package: pkg}
	}
	if !coresKnown {
		for i := range t.CPUs {
			t.CPUs[i].Core = t.CPUs[i].ID
		}
	}
	return t, nil
}

// readTopologyID reads one id file. ok is false when the file is absent or the
// kernel wrote a negative id, its way of saying "unknown".
func readTopologyID(fsys fs.FS, name string) (id int, ok bool, err error) {
	b, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("affinity: load topology: %w", err)
	}
	id, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false, fmt.Errorf("affinity: load topology: %s holds %q, not a number", name, strings.TrimSpace(string(b)))
	}
	return id, id >= 0, nil
}
