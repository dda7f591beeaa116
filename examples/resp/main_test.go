package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestFlags(t *testing.T) {
	cases := []struct {
		args  []string
		check func(config) bool
		err   string // what the error says; "" for none
	}{
		{nil, func(c config) bool {
			return c.timerSlack == time.Microsecond && !c.timerSlackSet && c.mode == "graph"
		}, ""},
		{[]string{"-timer-slack=0"}, func(c config) bool { return c.timerSlack == 0 && c.timerSlackSet }, ""},
		{[]string{"-timer-slack=5us"}, func(c config) bool { return c.timerSlack == 5*time.Microsecond && c.timerSlackSet }, ""},
		{[]string{"-mode=goroutines", "-cpu=explicit", "-cpus=0, 1"}, func(c config) bool {
			return c.mode == "goroutines" && fmt.Sprint(c.cpus) == "[0 1]"
		}, ""},
		{[]string{"-parsers=3", "-workers=5", "-repliers=2"}, func(c config) bool {
			return c.parsers == 3 && c.workers == 5 && c.repliers == 2
		}, ""},
		{[]string{"-timer-slack=-1us"}, nil, "-timer-slack must not be negative"},
		{[]string{"-mode=threads"}, nil, "-mode must be graph or goroutines"},
		{[]string{"-cpus=0,x"}, nil, "-cpus"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cfg, err := parseFlags(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v; want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.check(cfg) {
				t.Errorf("parsed %+v, %v", cfg, err)
			}
		})
	}
}

// TestTimerSlackFailureIsLogged: the server runs on whatever the slack setter says, and
// says why when it could not set what was asked.
func TestTimerSlackFailureIsLogged(t *testing.T) {
	refused := fmt.Errorf("refused: %w", errors.ErrUnsupported)
	cases := []struct {
		name   string
		cfg    config
		setErr error
		calls  int
		logged string // what the log line says; "" for no line
	}{
		{"0 leaves the slack", config{timerSlack: 0, timerSlackSet: true}, nil, 0, ""},
		{"set", config{timerSlack: time.Microsecond}, nil, 1, ""},
		{"failure", config{timerSlack: time.Microsecond}, errors.New("permission denied"), 1, "not applied: permission denied"},
		{"unsupported, by default", config{timerSlack: time.Microsecond}, refused, 1, ""},
		{"unsupported, asked for", config{timerSlack: time.Microsecond, timerSlackSet: true}, refused, 1, "not applied: refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			var lines []string
			set := func(d time.Duration) error {
				calls++
				if d != tc.cfg.timerSlack {
					t.Errorf("set(%v); want %v", d, tc.cfg.timerSlack)
				}
				return tc.setErr
			}
			applyTimerSlack(tc.cfg, set, func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) })
			if calls != tc.calls {
				t.Errorf("%d calls to set; want %d", calls, tc.calls)
			}
			switch {
			case tc.logged == "" && len(lines) > 0:
				t.Errorf("logged %q", lines)
			case tc.logged != "" && (len(lines) != 1 || !strings.Contains(lines[0], tc.logged)):
				t.Errorf("logged %q; want one line saying %q", lines, tc.logged)
			}
		})
	}
}
