package affinity

import (
	"fmt"
	"strconv"
	"strings"
)

// A Policy chooses how [Topology.Plan] places stages on CPUs. The zero value is
// [None].
type Policy int

const (
	// None pins nothing: every stage gets -1 and the Go scheduler and the
	// kernel place threads as they like. It is the default because pinning is
	// only a win when the stages own their CPUs; on a shared host a pinned
	// thread cannot escape a busy neighbour.
	None Policy = iota
	// Compact packs stages onto as few cores and packages as possible: SMT
	// siblings first, then the next core of the same package. Neighbouring
	// stages then share caches, which suits a pipeline whose levels hand
	// entries to each other.
	Compact
	// Spread gives each stage a physical core of its own, alternating between
	// packages, and uses SMT siblings only when every core already has a
	// stage. It suits stages that compute more than they communicate.
	Spread
	// Explicit cycles through a list of CPUs that the caller chooses.
	Explicit
)

// policyNames is indexed by Policy; String, ParsePolicy and the text methods
// all read it, so the spellings cannot drift apart.
var policyNames = [...]string{
	None:     "none",
	Compact:  "compact",
	Spread:   "spread",
	Explicit: "explicit",
}

func (p Policy) valid() bool { return p >= 0 && int(p) < len(policyNames) }

// String returns the policy's lower-case name, the spelling that [ParsePolicy]
// accepts. An unknown value reads as "Policy(n)".
func (p Policy) String() string {
	if !p.valid() {
		return "Policy(" + strconv.Itoa(int(p)) + ")"
	}
	return policyNames[p]
}

// ParsePolicy returns the policy named s ("none", "compact", "spread" or
// "explicit"), ignoring case and surrounding space, for use with command-line
// flags. It does not accept the empty string: a flag given with no value is
// more likely a mistake than a request for None.
func ParsePolicy(s string) (Policy, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for p, n := range policyNames {
		if n == name {
			return Policy(p), nil
		}
	}
	return None, fmt.Errorf("affinity: unknown policy %q (want one of %s)",
		s, strings.Join(policyNames[:], ", "))
}

// MarshalText implements [encoding.TextMarshaler], so a Policy can be a flag
// through [flag.TextVar] and a field of a JSON or TOML configuration.
func (p Policy) MarshalText() ([]byte, error) {
	if !p.valid() {
		return nil, fmt.Errorf("affinity: cannot marshal unknown %v", p)
	}
	return []byte(policyNames[p]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParsePolicy]. On
// error *p is left unchanged.
func (p *Policy) UnmarshalText(text []byte) error {
	q, err := ParsePolicy(string(text))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
