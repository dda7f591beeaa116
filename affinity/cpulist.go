package affinity

import (
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// maxCPU bounds every CPU number this package accepts. Linux kernels are built
// with at most 8192 CPUs (CONFIG_NR_CPUS); the bound exists so that a corrupt
// list such as "0-4000000000" fails to parse instead of allocating gigabytes.
const maxCPU = 1 << 16

// parseCPUList parses the kernel's cpulist format, as found in
// /sys/devices/system/cpu/online and in Cpus_allowed_list: comma-separated
// numbers and inclusive ranges ("0-3,8,10-11"), with an optional trailing
// newline. The result is sorted and free of duplicates. An empty list is valid
// and yields nil, because an offline-only or empty mask file is written as an
// empty line.
func parseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var cpus []int
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := parseCPU(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %w", s, err)
		}
		last := first
		if isRange {
			if last, err = parseCPU(hi); err != nil {
				return nil, fmt.Errorf("cpu list %q: %w", s, err)
			}
			if last < first {
				return nil, fmt.Errorf("cpu list %q: range %s is reversed", s, part)
			}
		}
		for c := first; c <= last; c++ {
			cpus = append(cpus, c)
		}
	}
	slices.Sort(cpus)
	return slices.Compact(cpus), nil
}

// readCPUList reads and parses a cpulist file such as "online" in a tree laid
// out like /sys/devices/system/cpu.
func readCPUList(fsys fs.FS, name string) ([]int, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	return parseCPUList(string(b))
}

// parseCPU parses one CPU number of a list. strconv.Atoi alone would accept
// "+3" and "-3"; the kernel never writes a sign, so neither do we accept one.
func parseCPU(s string) (int, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("bad cpu number %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= maxCPU {
		return 0, fmt.Errorf("bad cpu number %q", s)
	}
	return n, nil
}

// formatCPUList writes cpus in the kernel's cpulist format, folding runs into
// ranges, so that error messages naming an allowed set of 96 CPUs stay one
// short line ("0-95") and read like taskset's output. cpus must be sorted and
// free of duplicates; the empty set is written as "none".
func formatCPUList(cpus []int) string {
	if len(cpus) == 0 {
		return "none"
	}
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			// The kernel folds any run of two or more ("4-5"); so do we.
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	return b.String()
}
