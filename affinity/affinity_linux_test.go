package affinity

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestOnlineAndAllowed(t *testing.T) {
	online, err := Online()
	if err != nil {
		t.Fatal(err)
	}
	allowed := mustAllowed(t)
	if !slices.IsSorted(online) || !slices.IsSorted(allowed) {
		t.Fatalf("not sorted: online %v, allowed %v", online, allowed)
	}
	for _, c := range allowed {
		if !slices.Contains(online, c) {
			t.Errorf("allowed cpu %d is not online (%v)", c, online)
		}
	}
	// The runtime counts the same start-up mask for NumCPU.
	if len(allowed) != runtime.NumCPU() {
		t.Errorf("Allowed() = %v; runtime.NumCPU() = %d", allowed, runtime.NumCPU())
	}
	// Callers get copies: scribbling on one must not change the next.
	allowed[0] = -7
	if again := mustAllowed(t); again[0] == -7 {
		t.Error("Allowed returned shared storage")
	}
}

// TestPinCurrent pins one locked thread to each allowed CPU in turn (a few of
// them on big machines), then to two at once, and checks both what the kernel
// reports as the mask and where the thread actually runs.
func TestPinCurrent(t *testing.T) {
	allowed := needTwoCPUs(t)
	lt := startLockedThread(t)
	targets := allowed
	if len(targets) > 4 {
		targets = []int{allowed[0], allowed[1], allowed[len(allowed)/2], allowed[len(allowed)-1]}
	}
	for _, c := range targets {
		t.Run(strconv.Itoa(c), func(t *testing.T) {
			var pinErr, cpuErr error
			var ran int
			lt.run(func() {
				if pinErr = Pin(c); pinErr == nil {
					ran, cpuErr = getcpu()
				}
			})
			if pinErr != nil {
				t.Fatal(pinErr)
			}
			if got := lt.current(t); !slices.Equal(got, []int{c}) {
				t.Errorf("Current() after Pin(%d) = %v", c, got)
			}
			if cpuErr != nil || ran != c {
				t.Errorf("getcpu after Pin(%d) = %d, %v", c, ran, cpuErr)
			}
		})
	}
	pair := []int{allowed[len(allowed)-1], allowed[0], allowed[0]}
	var err error
	lt.run(func() { err = Pin(pair...) })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lt.current(t), []int{allowed[0], allowed[len(allowed)-1]}; !slices.Equal(got, want) {
		t.Errorf("Current() after Pin(%v) = %v; want %v", pair, got, want)
	}
}

// TestPinIsPerThread pins one thread and checks that another thread's mask,
// and the process's allowed set, do not move.
func TestPinIsPerThread(t *testing.T) {
	allowed := needTwoCPUs(t)
	a, b := startLockedThread(t), startLockedThread(t)
	before := b.current(t)
	var err error
	a.run(func() { err = Pin(allowed[1]) })
	if err != nil {
		t.Fatal(err)
	}
	if got := a.current(t); !slices.Equal(got, []int{allowed[1]}) {
		t.Fatalf("pinned thread: Current() = %v", got)
	}
	if got := b.current(t); !slices.Equal(got, before) {
		t.Errorf("other thread: Current() = %v; was %v before the pin", got, before)
	}
	if got := mustAllowed(t); !slices.Equal(got, allowed) {
		t.Errorf("Allowed() = %v while a thread is pinned; was %v", got, allowed)
	}
	// Restoring from the pinned thread needs Allowed to be the process's
	// set, not the thread's; startLockedThread's cleanup checks that too.
	a.run(func() { err = Pin(allowed...) })
	if err != nil {
		t.Errorf("Pin(Allowed()...) from a pinned thread: %v", err)
	}
}

func TestPinErrors(t *testing.T) {
	allowed := mustAllowed(t)
	outside := allowed[len(allowed)-1] + 1
	tests := []struct {
		name string
		cpus []int
		want []string
	}{
		{"empty", nil, []string{"empty cpu list"}},
		{"negative", []int{allowed[0], -1}, []string{"negative cpu -1"}},
		{"not allowed", []int{allowed[0], outside}, []string{"cpu " + strconv.Itoa(outside) + " is not allowed", "(allowed cpus " + formatCPUList(allowed) + ")"}},
		{"far beyond", []int{1 << 20}, []string{"cpu 1048576 is not allowed"}},
	}
	lt := startLockedThread(t)
	before := lt.current(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			lt.run(func() { err = Pin(tt.cpus...) })
			if err == nil {
				t.Fatalf("Pin(%v): no error", tt.cpus)
			}
			checkErrorText(t, err, "affinity: pin: ", tt.want)
			if got := lt.current(t); !slices.Equal(got, before) {
				t.Errorf("a failed Pin changed the mask to %v (was %v)", got, before)
			}
		})
	}
}

// sysfsID reads one topology id of this machine the plain way, -1 if unknown.
func sysfsID(cpu int, name string) int {
	b, err := os.ReadFile(sysCPUDir + "/cpu" + strconv.Itoa(cpu) + "/topology/" + name)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// TestReadTopology reads this machine. Its shape is unknown, so the test
// checks what must hold anywhere: the CPUs are the allowed ones, and the ids
// agree with sysfs under LoadTopology's fallback rules.
func TestReadTopology(t *testing.T) {
	topo, err := ReadTopology()
	if err != nil {
		t.Fatal(err)
	}
	coresKnown := true
	for _, c := range topo.CPUs {
		coresKnown = coresKnown && sysfsID(c.ID, "core_id") >= 0
	}
	var ids []int
	for _, c := range topo.CPUs {
		ids = append(ids, c.ID)
		want := CPU{ID: c.ID, Core: c.ID, Package: max(0, sysfsID(c.ID, "physical_package_id"))}
		if coresKnown {
			want.Core = sysfsID(c.ID, "core_id")
		}
		if c != want {
			t.Errorf("ReadTopology has %+v; sysfs says %+v", c, want)
		}
	}
	if allowed := mustAllowed(t); !slices.Equal(ids, allowed) {
		t.Errorf("ReadTopology CPUs %v; Allowed() = %v", ids, allowed)
	}
	plan, err := topo.Plan(Spread, []int{len(ids)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(plan.CPUs[0])); !slices.Equal(got, ids) || plan.Wrapped {
		t.Errorf("Spread over every CPU = %v (wrapped %v); want each of %v once", plan.CPUs[0], plan.Wrapped, ids)
	}
}
