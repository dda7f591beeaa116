package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var parseCases = []struct {
	name string
	in   string
	args []string // nil with n > 0: a request of no arguments
	n    int      // bytes taken; 0 means incomplete or an error
	err  string   // protocol error text, or "" for none
}{
	{"array", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"GET", "k"}, 20, ""},
	{"array then more", "*1\r\n$4\r\nPING\r\n*1\r\n", []string{"PING"}, 14, ""},
	{"binary bulk", "*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\x00\xff\r\n", []string{"ECHO", "\r\n\x00\xff"}, 24, ""},
	{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", []string{"ECHO", ""}, 20, ""},
	{"empty array", "*0\r\nPING\r\n", nil, 4, ""},
	{"null array", "*-1\r\n", nil, 5, ""},
	{"inline", "SET a b\r\n", []string{"SET", "a", "b"}, 9, ""},
	{"inline LF only", "PING\n", []string{"PING"}, 5, ""},
	{"inline spaces", "  GET \t k  \r\n", []string{"GET", "k"}, 13, ""},
	{"blank line", "\r\n", nil, 2, ""},
	{"incomplete header", "*2\r", nil, 0, ""},
	{"incomplete bulk", "*2\r\n$3\r\nGET\r\n$5\r\nab", nil, 0, ""},
	{"incomplete inline", "GET k", nil, 0, ""},
	// Length lines as redis-server 7.0 reads them (each checked against it): a line ends at
	// its CR, the byte after the CR and the two after a bulk string are skipped unread, and
	// a number is what string2ll takes.
	{"bad count", "*z\r\n", nil, 0, "invalid multibulk length"},
	{"count without CR waits", "*1\n", nil, 0, ""},
	{"count then LF", "*1\n$4\r\nPING\r\n", nil, 0, "invalid multibulk length"},
	{"count with a space", "*1 \r\n", nil, 0, "invalid multibulk length"},
	{"count with a plus", "*+1\r\n", nil, 0, "invalid multibulk length"},
	{"count with a leading zero", "*01\r\n", nil, 0, "invalid multibulk length"},
	{"count of minus zero", "*-0\r\n", nil, 0, "invalid multibulk length"},
	{"empty count", "*\r\n", nil, 0, "invalid multibulk length"},
	{"count past INT_MAX", "*2147483648\r\n", nil, 0, "invalid multibulk length"},
	{"count of 20 digits", "*99999999999999999999\r\n", nil, 0, "invalid multibulk length"},
	{"large count waits", "*2000000\r\n", nil, 0, ""},
	{"any byte after CR", "*1\rx$4\r\nPING\r\n", []string{"PING"}, 14, ""},
	{"NUL in a length line waits", "*1\x00\r\n", nil, 0, ""},
	{"not a bulk", "*1\r\n:1\r\n", nil, 0, "expected '$', got ':'"},
	{"not a bulk waits for its line", "*1\r\n:1", nil, 0, ""},
	{"control byte", "*1\r\n\x01\r\n", nil, 0, "expected '$', got '\x01'"},
	{"CR for a bulk", "*1\r\n\r\n", nil, 0, "expected '$', got ' '"},
	{"negative bulk", "*1\r\n$-1\r\n", nil, 0, "invalid bulk length"},
	{"bulk with a leading zero", "*1\r\n$04\r\nPING\r\n", nil, 0, "invalid bulk length"},
	{"bulk with a plus", "*1\r\n$+4\r\nPING\r\n", nil, 0, "invalid bulk length"},
	{"empty bulk length", "*1\r\n$\r\nPING\r\n", nil, 0, "invalid bulk length"},
	{"bulk over limit", "*1\r\n$9999999999\r\n", nil, 0, "invalid bulk length"},
	{"bulk not terminated by CRLF", "*1\r\n$1\r\nab\r\n", []string{"a"}, 11, ""},
	{"long header waits", "*" + strings.Repeat("9", 40), nil, 0, ""},
	{"endless count", "*" + strings.Repeat("9", 70000), nil, 0, "too big mbulk count string"},
	{"endless bulk length", "*1\r\n$" + strings.Repeat("9", 70000), nil, 0, "too big bulk count string"},
	{"long inline", strings.Repeat("a", 70000), nil, 0, "too big inline request"},
	{"inline double quotes", "SET q \"a b\"\r\n", []string{"SET", "q", "a b"}, 13, ""},
	{"inline single quotes", "ECHO 'x y'\r\n", []string{"ECHO", "x y"}, 12, ""},
	{"inline escapes", `ECHO "a\x41\n\"q\z" 'it\'s\n'` + "\r\n", []string{"ECHO", "aA\n\"qz", `it's\n`}, 31, ""},
	{"inline short hex escape", `ECHO "\x4"` + "\n", []string{"ECHO", "x4"}, 11, ""},
	{"inline quotes inside a word", "ECHO a\"b c\"\n", []string{"ECHO", "ab c"}, 12, ""},
	{"inline empty quotes", "ECHO \"\" ''\n", []string{"ECHO", "", ""}, 11, ""},
	{"inline quote then a tab", "ECHO \"a\"\tb\n", []string{"ECHO", "a", "b"}, 11, ""},
	{"inline NUL waits", "ECHO a\x00b c\n", nil, 0, ""},
	{"inline NUL past the limit", "ECHO \x00\n" + strings.Repeat("a", 70000), nil, 0, "too big inline request"},
	{"inline vertical tab inside a word", "ECHO a\vb \vc\n", []string{"ECHO", "a\vb", "c"}, 12, ""},
	{"unterminated quotes", "ECHO \"abc\r\n", nil, 0, "unbalanced quotes in request"},
	{"unterminated single quotes", "ECHO 'abc\r\n", nil, 0, "unbalanced quotes in request"},
	{"closing quote inside a word", "ECHO \"abc\"def\r\n", nil, 0, "unbalanced quotes in request"},
	{"backslash before the end", "ECHO \"abc\\\n", nil, 0, "unbalanced quotes in request"},
}

func TestParseCommand(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			args, n, need, err := parseCommand([]byte(tc.in), &defaultLimits, nil)
			switch {
			case tc.err != "":
				var pe protoError
				if !errors.As(err, &pe) || string(pe) != tc.err {
					t.Fatalf("err = %v, want protocol error %q", err, tc.err)
				}
			case tc.n == 0:
				if err != errIncomplete || need <= len(tc.in) {
					t.Fatalf("got %q, %d, need %d, %v; want incomplete with need > %d", args, n, need, err, len(tc.in))
				}
			default:
				if err != nil || n != tc.n {
					t.Fatalf("got n=%d, %v; want n=%d", n, err, tc.n)
				}
				if got := strArgs(args); fmt.Sprint(got) != fmt.Sprint(tc.args) || len(got) != len(tc.args) {
					t.Fatalf("args = %q, want %q", got, tc.args)
				}
			}
		})
	}
}

// TestParsePrefixes checks every strict prefix of every complete request: it must be
// incomplete, and its need must not ask for more bytes than the whole request has, or a
// client that sends exactly one request would wait for ever.
func TestParsePrefixes(t *testing.T) {
	for _, tc := range parseCases {
		if tc.n == 0 {
			continue
		}
		full := tc.in[:tc.n]
		for i := range len(full) {
			_, _, need, err := parseCommand([]byte(full[:i]), &defaultLimits, nil)
			if err != errIncomplete || need <= i || need > len(full) {
				t.Fatalf("%s: prefix %q: need %d, %v; want incomplete with %d < need <= %d", tc.name, full[:i], need, err, i, len(full))
			}
		}
	}
}

func strArgs(args [][]byte) []string {
	var out []string
	for _, a := range args {
		out = append(out, string(a))
	}
	return out
}

// FuzzParse feeds arbitrary bytes to the parser whole and split at a point: it must never
// panic, must take only bytes it was given, and must emit the same requests however the
// bytes are split into reads.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), uint16(len(tc.in)/2))
	}
	f.Add([]byte("MSET a 1 b 2 c 3\r\nMGET a b c d\r\nDBSIZE\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\nQUIT\r\n"), uint16(7))
	lim := limits{maxArgs: 64, maxBulk: 256, maxInline: 128, maxRequest: 1024}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		own := bytes.Clone(data) // an inline request's quoted arguments are unescaped in place
		args, n, need, err := parseCommand(own, &lim, nil)
		switch {
		case err == nil:
			if n <= 0 || n > len(data) {
				t.Fatalf("took %d of %d bytes", n, len(data))
			}
			for _, a := range args {
				if len(a) > 0 && !bytes.Contains(own[:n], a) {
					t.Fatalf("argument %q is not in the request's buffer", a)
				}
			}
		case err == errIncomplete:
			if need <= len(data) {
				t.Fatalf("incomplete with need %d <= %d", need, len(data))
			}
		default:
			var pe protoError
			if !errors.As(err, &pe) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		rt := newRouter(lim, 4, true)
		whole := feedAll(rt, data)
		at := int(cut) % (len(data) + 1)
		split := feedAll(rt, data[:at], data[at:])
		if whole != split {
			t.Fatalf("split at %d changes the requests:\nwhole: %s\nsplit: %s", at, whole, split)
		}
	})
}

// feedAll runs a connection's parser over reads and describes what it emitted.
func feedAll(rt *router, reads ...[]byte) string {
	c := &conn{id: 1}
	var sc scratch
	var b strings.Builder
	emit := func(r request) {
		name := "-"
		if r.cmd != nil {
			name = r.cmd.name
		}
		fmt.Fprintf(&b, "%d/%d/%d %s %q %v %q %v|", r.seq, r.part, r.parts, name, r.raw, r.keys, strArgs(r.args), r.closeAfter)
	}
	for _, d := range reads {
		c.parse.feed(c, bytes.Clone(d), rt, &sc, emit)
	}
	c.parse.end(c, rt, &sc, emit)
	return b.String()
}
