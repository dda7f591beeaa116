package main

import (
	"bytes"
	"strconv"
)

// connCommand answers a command that touches no key. It runs on the connection's parser,
// which owns the connection's state. It returns the encoded reply and whether the connection
// ends after it.
func (p *connParser) connCommand(c *conn, cmd *command, args [][]byte) ([]byte, bool) {
	switch cmd.id {
	case cmdPing:
		switch len(args) {
		case 1:
			return replyPong, false
		case 2:
			return appendBulk(nil, args[1]), false
		}
		return errorReply("ERR wrong number of arguments for 'ping' command"), false
	case cmdEcho:
		return appendBulk(nil, args[1]), false
	case cmdQuit:
		return replyOK, true
	case cmdHello:
		return p.hello(c, args), false
	case cmdCommand:
		if len(args) >= 2 && equalFold(args[1], "count") {
			return appendInt(nil, int64(len(commandList))), false
		}
		// redis-cli asks for COMMAND DOCS to offer hints; an empty answer means "none".
		return replyEmpty, false
	case cmdClient:
		return p.client(c, args), false
	case cmdSelect:
		n, err := strconv.ParseInt(string(args[1]), 10, 64)
		switch {
		case err != nil:
			return errNotInt, false
		case n != 0:
			return errorReply("ERR DB index is out of range"), false
		}
		return replyOK, false
	case cmdConfig:
		return configCommand(args), false
	}
	return errorReply("ERR command '" + cmd.name + "' is not answered by the parser"), false
}

// hello answers HELLO. This server speaks RESP2 only. go-redis v9 opens every connection
// with HELLO 3 and, when the answer is an error reply (not a broken connection), carries on
// in RESP2; so HELLO 3 gets NOPROTO, as a Redis server without RESP3 would answer.
func (p *connParser) hello(c *conn, args [][]byte) []byte {
	if len(args) >= 2 {
		v, err := strconv.ParseInt(string(args[1]), 10, 64)
		switch {
		case err != nil || v < 1:
			return errorReply("ERR Protocol version is not an integer or out of range")
		case v != 2:
			return errorReply("NOPROTO unsupported protocol version")
		}
		for i := 2; i < len(args); i++ {
			switch {
			case equalFold(args[i], "setname") && i+1 < len(args):
				p.name = bytes.Clone(args[i+1])
				i++
			case equalFold(args[i], "auth") && i+2 < len(args):
				i += 2 // no password is configured: every user is accepted
			default:
				return errorReply("ERR Syntax error in HELLO option '" + quoteArg(args[i]) + "'")
			}
		}
	}
	out := appendArrayHeader(nil, 14)
	for _, kv := range [][2]string{{"server", "redis"}, {"version", "7.2.0"}} {
		out = appendBulk(out, []byte(kv[0]))
		out = appendBulk(out, []byte(kv[1]))
	}
	out = appendBulk(out, []byte("proto"))
	out = appendInt(out, 2)
	out = appendBulk(out, []byte("id"))
	out = appendInt(out, int64(c.id))
	for _, kv := range [][2]string{{"mode", "standalone"}, {"role", "master"}} {
		out = appendBulk(out, []byte(kv[0]))
		out = appendBulk(out, []byte(kv[1]))
	}
	out = appendBulk(out, []byte("modules"))
	return append(out, replyEmpty...)
}

// client answers the CLIENT subcommands that client libraries send while connecting.
func (p *connParser) client(c *conn, args [][]byte) []byte {
	sub := args[1]
	switch {
	case equalFold(sub, "setinfo") && len(args) == 4:
		return replyOK
	case equalFold(sub, "setname") && len(args) == 3:
		p.name = bytes.Clone(args[2])
		return replyOK
	case equalFold(sub, "getname") && len(args) == 2:
		return appendBulk(nil, p.name)
	case equalFold(sub, "id") && len(args) == 2:
		return appendInt(nil, int64(c.id))
	}
	return errorReply("ERR unknown subcommand or wrong number of arguments for '" + quoteArg(sub) + "'. Try CLIENT HELP.")
}

// configCommand answers CONFIG GET for the two parameters redis-benchmark reads at start;
// everything else is empty, so tools that probe the configuration carry on.
func configCommand(args [][]byte) []byte {
	if !equalFold(args[1], "get") {
		return errorReply("ERR unknown subcommand '" + quoteArg(args[1]) + "'. Try CONFIG HELP.")
	}
	var pairs [][]byte
	for _, a := range args[2:] {
		switch {
		case equalFold(a, "save"):
			pairs = append(pairs, []byte("save"), []byte(""))
		case equalFold(a, "appendonly"):
			pairs = append(pairs, []byte("appendonly"), []byte("no"))
		}
	}
	out := appendArrayHeader(nil, len(pairs))
	for _, v := range pairs {
		out = appendBulk(out, v)
	}
	return out
}

// equalFold compares an argument with a lowercase ASCII word, ignoring case.
func equalFold(a []byte, lower string) bool {
	if len(a) != len(lower) {
		return false
	}
	for i := range a {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
