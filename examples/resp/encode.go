package main

import (
	"bytes"
	"strconv"
)

// Replies that never change are encoded once; a worker hands out these slices and the
// replier only copies them, so the common answers cost no allocation.
var (
	replyOK       = []byte("+OK\r\n")
	replyPong     = []byte("+PONG\r\n")
	replyNil      = []byte("$-1\r\n")
	replyNull     = []byte("_\r\n")   // RESP3's null
	replyNilArray = []byte("*-1\r\n") // RESP2's null array (an aborted EXEC)
	replyEmpty    = []byte("*0\r\n")
	replyZero     = []byte(":0\r\n")
	replyNone     = []byte("+none\r\n")
	replyString   = []byte("+string\r\n")
	replyOne      = []byte(":1\r\n")
	errNotInt     = []byte("-ERR value is not an integer or out of range\r\n")
	errOverflow   = []byte("-ERR increment or decrement would overflow\r\n")
	errSyntax     = []byte("-ERR syntax error\r\n")
	errTooLong    = []byte("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
)

func appendBulk(out, v []byte) []byte {
	if v == nil {
		return append(out, replyNil...)
	}
	out = append(out, '$')
	out = strconv.AppendInt(out, int64(len(v)), 10)
	out = append(out, '\r', '\n')
	out = append(out, v...)
	return append(out, '\r', '\n')
}

// null is the missing value in the connection's protocol: RESP2's null bulk string or
// RESP3's null.
func null(resp3 bool) []byte {
	if resp3 {
		return replyNull
	}
	return replyNil
}

// appendMapHeader starts a map of n pairs: RESP3's map, or RESP2's flat array.
func appendMapHeader(out []byte, n int, resp3 bool) []byte {
	if !resp3 {
		return appendArrayHeader(out, 2*n)
	}
	out = append(out, '%')
	out = strconv.AppendInt(out, int64(n), 10)
	return append(out, '\r', '\n')
}

func appendInt(out []byte, n int64) []byte {
	out = append(out, ':')
	out = strconv.AppendInt(out, n, 10)
	return append(out, '\r', '\n')
}

func appendArrayHeader(out []byte, n int) []byte {
	out = append(out, '*')
	out = strconv.AppendInt(out, int64(n), 10)
	return append(out, '\r', '\n')
}

// errorReply encodes "-msg"; msg must not contain CR or LF (render what came from the client
// with errArg).
func errorReply(msg string) []byte { return []byte("-" + msg + "\r\n") }

// errArg renders a client's argument in an error message as Redis's printf-style replies
// render it: "%s" stops at a NUL byte, "%.128s" (limit 128; 0 for none) also after limit
// bytes, and addReplyErrorFormat turns CR and LF into spaces so that the reply cannot be
// broken by what it echoes. Other bytes pass as they are.
func errArg(a []byte, limit int) string {
	if i := bytes.IndexByte(a, 0); i >= 0 {
		a = a[:i]
	}
	if limit > 0 && len(a) > limit {
		a = a[:limit]
	}
	s := []byte(string(a))
	for i, c := range s {
		if c == '\r' || c == '\n' {
			s[i] = ' '
		}
	}
	return string(s)
}
