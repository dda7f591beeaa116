package affinity

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestPolicyNames(t *testing.T) {
	tests := []struct {
		p    Policy
		name string
	}{
		{None, "none"},
		{Compact, "compact"},
		{Spread, "spread"},
		{Explicit, "explicit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s := tt.p.String(); s != tt.name {
				t.Errorf("String() = %q; want %q", s, tt.name)
			}
			for _, in := range []string{tt.name, strings.ToUpper(tt.name), " " + tt.name + "\n"} {
				if p, err := ParsePolicy(in); err != nil || p != tt.p {
					t.Errorf("ParsePolicy(%q) = %v, %v; want %v", in, p, err, tt.p)
				}
			}
			text, err := tt.p.MarshalText()
			if err != nil || string(text) != tt.name {
				t.Errorf("MarshalText() = %q, %v; want %q", text, err, tt.name)
			}
		})
	}
}

func TestParsePolicyErrors(t *testing.T) {
	for _, in := range []string{"", "compactt", "numa", "0", "spread,compact"} {
		t.Run(in, func(t *testing.T) {
			p, err := ParsePolicy(in)
			if err == nil {
				t.Fatalf("ParsePolicy(%q) = %v; want an error", in, p)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "affinity: ") || !strings.Contains(msg, "none, compact, spread, explicit") {
				t.Errorf("error %q: want the package prefix and the valid names", msg)
			}
		})
	}
}

func TestPolicyUnknownValue(t *testing.T) {
	if s := Policy(9).String(); s != "Policy(9)" {
		t.Errorf("Policy(9).String() = %q", s)
	}
	if s := Policy(-1).String(); s != "Policy(-1)" {
		t.Errorf("Policy(-1).String() = %q", s)
	}
	if _, err := Policy(9).MarshalText(); err == nil {
		t.Error("Policy(9).MarshalText: no error")
	}
}

// TestPolicyFlag uses the policy the way a command would, through flag.TextVar.
func TestPolicyFlag(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var p Policy
	fs.TextVar(&p, "placement", Compact, "stage placement")
	if p != Compact {
		t.Fatalf("default = %v; want compact", p)
	}
	if err := fs.Parse([]string{"-placement=spread"}); err != nil || p != Spread {
		t.Fatalf("after -placement=spread: %v, %v", p, err)
	}
	if err := fs.Parse([]string{"-placement=sideways"}); err == nil {
		t.Fatal("-placement=sideways: no error")
	}
	if p != Spread {
		t.Errorf("a failed parse changed the policy to %v", p)
	}
}
