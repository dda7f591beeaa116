package main

import "strconv"

// Replies that never change are encoded once; a worker hands out these slices and the
// replier only copies them, so the common answers cost no allocation.
var (
	replyOK     = []byte("+OK\r\n")
	replyPong   = []byte("+PONG\r\n")
	replyNil    = []byte("$-1\r\n")
	replyEmpty  = []byte("*0\r\n")
	replyZero   = []byte(":0\r\n")
	replyOne    = []byte(":1\r\n")
	errNotInt   = []byte("-ERR value is not an integer or out of range\r\n")
	errOverflow = []byte("-ERR increment or decrement would overflow\r\n")
	errSyntax   = []byte("-ERR syntax error\r\n")
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

// errorReply encodes "-ERR msg"; msg must not contain CR or LF (sanitize what came from the
// client with printable or quoteArg).
func errorReply(msg string) []byte { return []byte("-" + msg + "\r\n") }

// quoteArg renders a client's argument for an error message, as Redis does, cut short and
// without control bytes, so a reply can never be broken by what it echoes.
func quoteArg(a []byte) string {
	const max = 64
	s := make([]byte, 0, min(len(a), max))
	for i, c := range a {
		if i == max {
			s = append(s, "..."...)
			break
		}
		if c < 0x20 || c >= 0x7f {
			s = append(s, printable(c)...)
			continue
		}
		s = append(s, c)
	}
	return string(s)
}
