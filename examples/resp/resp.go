package main

import (
	"bytes"
	"errors"
)

// limits bound what one request may make the server hold, so that one client cannot exhaust
// memory: a header that never ends, a bulk length of a terabyte, or a million tiny arguments
// are refused as protocol errors before their bytes are buffered.
type limits struct {
	maxArgs    int // arguments in one request (Redis: 1024*1024)
	maxBulk    int // bytes in one argument (Redis: proto-max-bulk-len, 512 MiB)
	maxInline  int // bytes in one inline command line (Redis: 64 KiB)
	maxRequest int // bytes one request may occupy in the parse buffer
}

var defaultLimits = limits{maxArgs: 1 << 20, maxBulk: 8 << 20, maxInline: 64 << 10, maxRequest: 16 << 20}

// errIncomplete says the buffer holds the start of a request but not all of it.
var errIncomplete = errors.New("resp: incomplete request")

// protoError is a violation of the protocol: the server answers it with an error and closes
// the connection, because it can no longer tell where the next request starts.
type protoError string

func (e protoError) Error() string { return "Protocol error: " + string(e) }

// maxHeader bounds the "*<n>\r\n" and "$<n>\r\n" lines: 20 digits, a sign and CRLF.
const maxHeader = 32

// parseCommand parses one request at the start of b: a RESP2 array of bulk strings, or an
// inline command (words separated by spaces, ended by a newline). The arguments are appended
// to args[:0] as sub-slices of b. It returns how many bytes the request took; a request of
// no arguments (an empty line, "*0") takes its bytes and yields no arguments.
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
	count, pos, err := parseHeader(b, 1)
	switch {
	case err == errIncomplete:
		return args, 0, len(b) + 1, err
	case err != nil:
		return args, 0, 0, err
	case count > int64(lim.maxArgs):
		return args, 0, 0, protoError("invalid multibulk length")
	case count <= 0:
		return args, pos, 0, nil
	}
	for i := int64(0); i < count; i++ {
		if pos >= len(b) {
			return args, 0, pos + 1, errIncomplete
		}
		if b[pos] != '$' {
			return args, 0, 0, protoError("expected '$', got '" + printable(b[pos]) + "'")
		}
		size, next, err := parseHeader(b, pos+1)
		if err == errIncomplete {
			return args, 0, len(b) + 1, err
		}
		if err != nil {
			return args, 0, 0, err
		}
		if size < 0 || size > int64(lim.maxBulk) {
			return args, 0, 0, protoError("invalid bulk length")
		}
		end := next + int(size) + 2
		if end > len(b) {
			return args, 0, end, errIncomplete
		}
		if b[end-2] != '\r' || b[end-1] != '\n' {
			return args, 0, 0, protoError("bulk string not terminated by CRLF")
		}
		args = append(args, b[next:end-2])
		pos = end
	}
	return args, pos, 0, nil
}

// parseHeader reads the decimal integer that starts at b[pos] and ends with CRLF, and
// returns it with the position after the CRLF.
func parseHeader(b []byte, pos int) (v int64, next int, err error) {
	end := bytes.IndexByte(b[pos:min(len(b), pos+maxHeader)], '\n')
	if end < 0 {
		if len(b)-pos >= maxHeader {
			return 0, 0, protoError("header too long")
		}
		return 0, 0, errIncomplete
	}
	line := b[pos : pos+end]
	if len(line) < 2 || line[len(line)-1] != '\r' {
		return 0, 0, protoError("header not terminated by CRLF")
	}
	line = line[:len(line)-1]
	neg := line[0] == '-'
	if neg {
		line = line[1:]
	}
	if len(line) == 0 || len(line) > 18 {
		return 0, 0, protoError("bad header number")
	}
	for _, c := range line {
		if c < '0' || c > '9' {
			return 0, 0, protoError("bad header number")
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, pos + end + 1, nil
}

// parseInline parses a command line as redis-cli's raw mode and telnet users send it, as
// Redis splits it (sdssplitargs): arguments separated by blanks, where "double quotes" take
// the escapes \n \r \t \b \a \xHH and a backslash before any other byte, 'single quotes'
// take \' only, and a closing quote must end its argument. Unbalanced quotes are a protocol
// error. A NUL byte is an ordinary byte here (Redis looks for the newline with strchr, so a
// NUL makes it wait for a newline it has already received).
//
// Quoted arguments are unescaped in place, which never makes them longer: the line's bytes
// are rewritten, so b must be the caller's to change.
func parseInline(b []byte, lim *limits, args [][]byte) ([][]byte, int, int, error) {
	nl := bytes.IndexByte(b[:min(len(b), lim.maxInline+1)], '\n')
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

// printable renders one byte for an error message without letting control bytes through.
func printable(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return string(rune(c))
	}
	return "\\x" + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
}
