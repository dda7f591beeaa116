package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// outputLimit bounds the replies a client may leave unread, as Redis's
// client-output-buffer-limit does for a class of clients: a connection whose pending output
// passes hard is dropped at once, and one whose pending output stays above soft for softFor
// is dropped then. Zero disables a limit. Pending output is what the server holds because
// the socket would not take it: bytes already in the kernel's send buffer do not count.
//
// Without a bound, a client that pipelines requests and never reads makes the server hold
// every reply; Redis leaves normal clients unbounded by default, which this server does
// not, because one such client should not be able to take the host's memory.
type outputLimit struct {
	hard    int
	soft    int
	softFor time.Duration
}

var defaultOutputLimit = outputLimit{hard: 256 << 20, soft: 64 << 20, softFor: time.Minute}

// over reports whether pending bytes, held above soft since softSince (zero: not above
// soft until now), break the limit at now. It returns the new softSince.
func (l outputLimit) over(pending int, softSince, now time.Time) (bool, time.Time) {
	if l.hard > 0 && pending > l.hard {
		return true, softSince
	}
	if l.soft <= 0 || pending <= l.soft {
		return false, time.Time{}
	}
	if softSince.IsZero() {
		return false, now
	}
	return l.softFor > 0 && now.Sub(softSince) >= l.softFor, softSince
}

// String writes the limit as the flag takes it, with Redis's units: "256mb 64mb 60".
func (l outputLimit) String() string {
	return sizeString(l.hard) + " " + sizeString(l.soft) + " " + strconv.FormatInt(int64(l.softFor/time.Second), 10)
}

// Set parses "hard soft seconds" as Redis's configuration does: sizes are bytes, or a
// number with a unit (k, kb, m, mb, g, gb; the b forms are powers of 1024, the others of
// 1000).
func (l *outputLimit) Set(s string) error {
	f := strings.Fields(s)
	if len(f) != 3 {
		return fmt.Errorf("want \"hard soft seconds\", not %q", s)
	}
	hard, err := parseSize(f[0])
	if err != nil {
		return err
	}
	soft, err := parseSize(f[1])
	if err != nil {
		return err
	}
	secs, err := strconv.ParseUint(f[2], 10, 31)
	if err != nil {
		return fmt.Errorf("soft seconds %q: %w", f[2], err)
	}
	*l = outputLimit{hard: hard, soft: soft, softFor: time.Duration(secs) * time.Second}
	return nil
}

var sizeUnits = []struct {
	suffix string
	mul    int
}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}}

func parseSize(s string) (int, error) {
	ls, mul := strings.ToLower(s), 1
	for _, u := range sizeUnits {
		if strings.HasSuffix(ls, u.suffix) {
			ls, mul = ls[:len(ls)-len(u.suffix)], u.mul
			break
		}
	}
	n, err := strconv.ParseUint(ls, 10, 62)
	if err != nil || n > uint64(int(^uint(0)>>1)/mul) {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int(n) * mul, nil
}

func sizeString(n int) string {
	for _, u := range sizeUnits[:3] {
		if n != 0 && n%u.mul == 0 {
			return strconv.Itoa(n/u.mul) + u.suffix
		}
	}
	return strconv.Itoa(n)
}
