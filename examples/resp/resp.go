package main

import (
	"bytes"
	"errors"
	"math"
)

// limits bound what one request may make the server hold, so that one client cannot exhaust
// memory: a header that never ends, a bulk length of a terabyte, or a million tiny arguments
// are refused as protocol errors before their bytes are buffered.
type limits struct {
	maxArgs    int // arguments received in one request (Redis takes a count up to INT_MAX)
	maxBulk    int // bytes in one argument (Redis: proto-max-bulk-len, 512 MiB)
	maxInline  int // bytes in one inline command line or length line (Redis: 64 KiB)
	maxRequest int // bytes one request may occupy in the parse buffer (Redis: client-query-buffer-limit, 1 GiB)
}

// defaultLimits are Redis's: a client may send what it may send to redis-server (a value of
// up to 512 MiB), and the buffer of a request still arriving grows with the bytes received,
// never with the lengths declared.
var defaultLimits = limits{maxArgs: 1 << 20, maxBulk: 512 << 20, maxInline: 64 << 10, maxRequest: 1 << 30}

// errIncomplete says the buffer holds the start of a request but not all of it.
var errIncomplete = errors.New("resp: incomplete request")

// protoError is a violation of the protocol: the server answers it with an error and closes
// the connection, because it can no longer tell where the next request starts.
type protoError string

func (e protoError) Error() string { return "Protocol error: " + string(e) }

// parseCommand parses one request at the start of b: a RESP2 array of bulk strings, or an
// inline command (words separated by spaces, ended by a newline). The arguments are appended
// to args[:0] as sub-slices of b. It returns how many bytes the request took; a request of
// no arguments (an empty line, "*0", "*-1") takes its bytes and yields no arguments.
//
// It reads what Redis 7 reads, the way processMultibulkBuffer does, and refuses what it
// refuses with the same messages: a length line ends at its first CR (the byte after the CR
// is skipped unread, whatever it is), its number is what string2ll accepts (no sign but
// '-', no leading zero, no space), and the two bytes after a bulk string are skipped
// unread too, so "$4\r\nPINGxx" is PING. A declared count is not an allocation: up to
// INT_MAX is accepted, and lim.maxArgs bounds the arguments actually received.
//
// When b holds only part of a request it returns errIncomplete and need, a lower bound on the
// length of b at which parsing can make progress, so the caller does not re-parse a long
// request on every short read. A malformed request returns a protoError.
func parseCommand(b []byte, lim *limits, args [][]byte) (out [][]byte, n, need int, err error) {
	args = args[:0]
	if len(b) == 0 {
		return args, 0, 1, errIncomplete
	}
	if b[0] != '*' {
		return parseInline(b, lim, args)
	}
	line, pos, err := lengthLine(b, 0, lim, "too big mbulk count string")
	if err != nil {
		return args, 0, len(b) + 1, err
	}
	count, ok := parseInt(line)
	switch {
	case !ok || count > math.MaxInt32:
		return args, 0, 0, protoError("invalid multibulk length")
	case count <= 0:
		return args, pos, 0, nil
	}
	for i := int64(0); i < count; i++ {
		if i == int64(lim.maxArgs) {
			return args, 0, 0, protoError("invalid multibulk length")
		}
		line, next, err := lengthLine(b, pos, lim, "too big bulk count string")
		if err != nil {
			return args, 0, len(b) + 1, err
		}
		if b[pos] != '$' {
			return args, 0, 0, protoError("expected '$', got '" + errByte(b[pos]) + "'")
		}
		size, ok := parseInt(line)
		if !ok || size < 0 || size > int64(lim.maxBulk) {
			return args, 0, 0, protoError("invalid bulk length")
		}
		end := next + int(size) + 2
		if end > len(b) {
			return args, 0, end, errIncomplete
		}
		args = append(args, b[next:next+int(size)])
		pos = end
	}
	return args, pos, 0, nil
}

// lengthLine finds the line of the length whose sigil is b[pos] and returns the bytes
// between the sigil and the line's CR, with the position after the byte that follows the
// CR. Like Redis's strchr it stops at a NUL byte, and a line it cannot find in lim.maxInline
// bytes is refused with tooBig.
func lengthLine(b []byte, pos int, lim *limits, tooBig string) (line []byte, next int, err error) {
	window := b[pos:min(len(b), pos+lim.maxInline+1)]
	cr := bytes.IndexByte(window, '\r')
	if cr >= 0 && bytes.IndexByte(window[:cr], 0) >= 0 {
		cr = -1
	}
	switch {
	case cr < 0 && len(b)-pos > lim.maxInline:
		return nil, 0, protoError(tooBig)
	case cr < 0 || pos+cr+1 >= len(b):
		return nil, 0, errIncomplete
	}
	return window[min(1, cr):cr], pos + cr + 2, nil // a CR at the sigil's place: an empty line
}

// errByte renders a byte in an error message as Redis's addReplyErrorFormat does: as it
// is, except that CR and LF become spaces so that they cannot end the reply.
func errByte(c byte) string {
	if c == '\r' || c == '\n' {
		return " "
	}
	return string([]byte{c})
}

// parseInline parses a command line as redis-cli's raw mode and telnet users send it, as
// Redis splits it (sdssplitargs): arguments separated by blanks, where "double quotes" take
// the escapes \n \r \t \b \a \xHH and a backslash before any other byte, 'single quotes'
// take \' only, and a closing quote must end its argument. Unbalanced quotes are a protocol
// error. A line with a NUL byte is never complete, as in Redis, which looks for the newline
// with strchr: the request waits until the line passes lim.maxInline, then is refused.
//
// Quoted arguments are unescaped in place, which never makes them longer: the line's bytes
// are rewritten, so b must be the caller's to change.
func parseInline(b []byte, lim *limits, args [][]byte) ([][]byte, int, int, error) {
	window := b[:min(len(b), lim.maxInline+1)]
	nl := bytes.IndexByte(window, '\n')
	if nl >= 0 && bytes.IndexByte(window[:nl], 0) >= 0 {
		nl = -1 // Redis looks for the newline with strchr, which a NUL byte stops
	}
	if nl < 0 {
		if len(b) > lim.maxInline {
			return args, 0, 0, protoError("too big inline request")
		}
		return args, 0, len(b) + 1, errIncomplete
	}
	line := b[:nl]
	quoted := bytes.IndexByte(line, '"') >= 0 || bytes.IndexByte(line, '\'') >= 0
	for r := 0; ; {
		for r < len(line) && isSpace(line[r]) {
			r++
		}
		if r == len(line) {
			break
		}
		if len(args) == lim.maxArgs {
			return args, 0, 0, protoError("too many inline arguments")
		}
		var arg []byte
		if quoted {
			var ok bool
			if arg, r, ok = unquoteArg(line, r); !ok {
				return args, 0, 0, protoError("unbalanced quotes in request")
			}
		} else {
			start := r
			for r < len(line) && !endsWord(line[r]) {
				r++
			}
			arg = line[start:r]
		}
		args = append(args, arg)
	}
	return args, nl + 1, 0, nil
}

// unquoteArg reads the argument that starts at line[r], unescaping it in place, and returns
// it with the position after it; ok is false for unbalanced quotes.
func unquoteArg(line []byte, r int) (arg []byte, next int, ok bool) {
	w, start := r, r
	inq, insq := false, false
	for r < len(line) {
		c := line[r]
		switch {
		case inq && c == '\\' && r+3 < len(line) && line[r+1] == 'x' && isHex(line[r+2]) && isHex(line[r+3]):
			line[w] = unhex(line[r+2])<<4 | unhex(line[r+3])
			w, r = w+1, r+4
		case inq && c == '\\' && r+1 < len(line):
			line[w] = unescape(line[r+1])
			w, r = w+1, r+2
		case insq && c == '\\' && r+1 < len(line) && line[r+1] == '\'':
			line[w] = '\''
			w, r = w+1, r+2
		case (inq && c == '"') || (insq && c == '\''):
			if r+1 < len(line) && !isSpace(line[r+1]) {
				return nil, 0, false // a closing quote must end its argument
			}
			return line[start:w], r + 1, true
		case !inq && !insq && c == '"':
			inq, r = true, r+1
		case !inq && !insq && c == '\'':
			insq, r = true, r+1
		case !inq && !insq && endsWord(c):
			return line[start:w], r, true
		default:
			line[w] = c
			w, r = w+1, r+1
		}
	}
	return line[start:w], r, !inq && !insq
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// isSpace is C's isspace, which separates arguments; endsWord is what ends an unquoted
// one (sdssplitargs does not end a word at a vertical tab or form feed).
func isSpace(c byte) bool { return c == ' ' || ('\t' <= c && c <= '\r') }

func endsWord(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
