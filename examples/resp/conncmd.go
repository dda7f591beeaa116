package main

import (
	"bytes"
	"math"
	"os"
	"path"
	"runtime"
	"strconv"
	"time"
)

// version is the Redis version this server answers as (HELLO, INFO): the one whose
// replies it follows, CLIENT SETINFO included.
const version = "7.2.0"

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
	case cmdAuth:
		return auth(args), false
	case cmdCommand:
		return commandCommand(args, p.resp3), false
	case cmdClient:
		return p.client(c, args), false
	case cmdSelect:
		n, ok := parseInt(args[1])
		switch {
		case !ok:
			return errNotInt, false
		case n < math.MinInt32 || n > math.MaxInt32: // Redis reads the index as an int first
			return errorReply("ERR value is out of range, value must between -2147483648 and 2147483647"), false
		case n < 0 || n >= numDBs:
			return errorReply("ERR DB index is out of range"), false
		}
		p.db = uint8(n)
		return replyOK, false
	case cmdConfig:
		return configCommand(args, p.resp3), false
	case cmdInfo:
		return info(args, p.resp3), false
	}
	return errorReply("ERR command '" + cmd.name + "' is not answered by the parser"), false
}

// hello answers HELLO [protover [AUTH user pass] [SETNAME name]] in Redis 7's order of
// checks: the version, the options, the credentials, the name; then it switches the
// connection to the version asked for (RESP2 or RESP3; none: the one it speaks) and answers
// in it.
func (p *connParser) hello(c *conn, args [][]byte) []byte {
	ver := int64(2)
	if p.resp3 {
		ver = 3
	}
	i := 1
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		switch {
		case !ok:
			return errorReply("ERR Protocol version is not an integer or out of range")
		case v < 2 || v > 3:
			return errorReply("NOPROTO unsupported protocol version")
		}
		ver, i = v, 2
	}
	var user, pass, name []byte
	setName := false
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		switch {
		case equalFold(args[i], "auth") && more >= 2:
			user, pass = args[i+1], args[i+2]
			i += 2
		case equalFold(args[i], "setname") && more >= 1:
			name, setName = args[i+1], true
			i++
		default:
			return errorReply("ERR Syntax error in HELLO option '" + errArg(args[i], 0) + "'")
		}
	}
	if user != nil {
		if err := authenticate(user, pass); err != nil {
			return err
		}
	}
	if setName && !validAttr(name) {
		return errClientName
	}
	if setName {
		p.setName(name)
	}
	p.resp3 = ver == 3
	out := appendMapHeader(nil, 7, p.resp3)
	for _, kv := range [][2]string{{"server", "redis"}, {"version", version}} {
		out = appendBulk(out, []byte(kv[0]))
		out = appendBulk(out, []byte(kv[1]))
	}
	out = appendBulk(out, []byte("proto"))
	out = appendInt(out, ver)
	out = appendBulk(out, []byte("id"))
	out = appendInt(out, int64(c.id))
	for _, kv := range [][2]string{{"mode", "standalone"}, {"role", "master"}} {
		out = appendBulk(out, []byte(kv[0]))
		out = appendBulk(out, []byte(kv[1]))
	}
	out = appendBulk(out, []byte("modules"))
	return append(out, replyEmpty...)
}

var errWrongPass = errorReply("WRONGPASS invalid username-password pair or user is disabled.")

// authenticate checks credentials as a Redis without ACL rules or password does: the
// default user takes any password, and there is no other user.
func authenticate(user, pass []byte) []byte {
	if string(user) != "default" {
		return errWrongPass
	}
	return nil
}

// auth answers AUTH [user] password as a Redis without a password answers it.
func auth(args [][]byte) []byte {
	switch len(args) {
	case 2:
		return errorReply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
	case 3:
		if err := authenticate(args[1], args[2]); err != nil {
			return err
		}
		return replyOK
	}
	return errSyntax
}

// subcommand is one subcommand of a container command (CLIENT, COMMAND, CONFIG): Redis 7
// checks its arity, as it checks a command's, before it runs it.
type subcommand struct {
	name  string
	arity int // the command's name and the subcommand's included; negative: at least
}

// findSub looks up args[1] among subs and answers Redis's error when it is not there or has
// the wrong number of arguments.
func findSub(container, upper string, subs []subcommand, args [][]byte) (string, []byte) {
	for _, s := range subs {
		if !equalFold(args[1], s.name) {
			continue
		}
		if (s.arity >= 0 && len(args) != s.arity) || (s.arity < 0 && len(args) < -s.arity) {
			return "", errorReply("ERR wrong number of arguments for '" + container + "|" + s.name + "' command")
		}
		return s.name, nil
	}
	return "", errorReply("ERR unknown subcommand '" + errArg(args[1], 128) + "'. Try " + upper + " HELP.")
}

// subcommandError returns the error Redis 7 answers for an unknown subcommand of CLIENT,
// CONFIG or COMMAND, or one with the wrong number of arguments, which it checks before it
// runs the command or queues it in a transaction; nil for any other command.
func subcommandError(cmd *command, args [][]byte) []byte {
	var err []byte
	switch {
	case cmd.id == cmdClient:
		_, err = findSub("client", "CLIENT", clientSubs, args)
	case cmd.id == cmdConfig:
		_, err = findSub("config", "CONFIG", configSubs, args)
	case cmd.id == cmdCommand && len(args) > 1:
		_, err = findSub("command", "COMMAND", commandSubs, args)
	}
	return err
}

var clientSubs = []subcommand{{"setname", 3}, {"getname", 2}, {"id", 2}, {"setinfo", 4}, {"no-evict", 3}, {"help", 2}}

// helpReply answers a container command's HELP: its lines as an array of simple strings,
// as Redis answers it. The text describes what this server does, not Redis's.
func helpReply(lines ...string) []byte {
	out := appendArrayHeader(nil, len(lines))
	for _, l := range lines {
		out = append(out, '+')
		out = append(out, l...)
		out = append(out, "\r\n"...)
	}
	return out
}

var clientHelp = helpReply(
	"CLIENT <subcommand> [<arg> ...]. The subcommands this server answers:",
	"SETNAME <name>",
	"    Set the connection's name; an empty name clears it.",
	"GETNAME",
	"    Return the connection's name, or null if it has none.",
	"ID",
	"    Return the connection's id.",
	"SETINFO LIB-NAME|LIB-VER <value>",
	"    Check the client library's name or version (not kept).",
	"NO-EVICT ON|OFF",
	"    Accepted; this server evicts no client.",
	"HELP",
	"    Print this help.",
)

var errClientName = errorReply("ERR Client names cannot contain spaces, newlines or special characters.")

// client answers the CLIENT subcommands that client libraries send while connecting.
func (p *connParser) client(c *conn, args [][]byte) []byte {
	sub, err := findSub("client", "CLIENT", clientSubs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "setname":
		if !validAttr(args[2]) {
			return errClientName
		}
		p.setName(args[2])
		return replyOK
	case "getname":
		if p.name == nil {
			return null(p.resp3)
		}
		return appendBulk(nil, p.name)
	case "id":
		return appendInt(nil, int64(c.id))
	case "setinfo": // Redis 7.2's, which go-redis and redis-py send
		if !equalFold(args[2], "lib-name") && !equalFold(args[2], "lib-ver") {
			return errorReply("ERR Unrecognized option '" + errArg(args[2], 0) + "'")
		}
		if !validAttr(args[3]) {
			return errorReply("ERR " + errArg(args[2], 0) + " cannot contain spaces, newlines or special characters.")
		}
		return replyOK
	case "no-evict":
		if !equalFold(args[2], "on") && !equalFold(args[2], "off") {
			return errSyntax
		}
		return replyOK
	case "help":
		return clientHelp
	}
	return errSyntax
}

// setName sets the connection's name; an empty name clears it, as in Redis.
func (p *connParser) setName(name []byte) {
	p.name = nil
	if len(name) > 0 {
		p.name = bytes.Clone(name)
	}
}

// validAttr checks a client name or library attribute as Redis does: printable ASCII and
// no space.
func validAttr(b []byte) bool {
	for _, c := range b {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

var commandSubs = []subcommand{{"count", 2}, {"list", -2}, {"info", -2}, {"docs", -2}, {"help", 2}}

var commandHelp = helpReply(
	"COMMAND [<subcommand> [<arg> ...]]. Without a subcommand, the entries of every command this server runs. Subcommands:",
	"COUNT",
	"    Return how many commands this server runs.",
	"LIST",
	"    Return their names.",
	"INFO [<command-name> ...]",
	"    Return the entries of the named commands (null for an unknown one), or of every command.",
	"DOCS [<command-name> ...]",
	"    Return no documentation: an empty map.",
	"HELP",
	"    Print this help.",
)

// commandCommand answers COMMAND with the entries of this server's commands as Redis 7.0
// gives them (commandInfo); COUNT and LIST count and name this server's commands. DOCS
// answers no documentation, which redis-cli takes as "no hints".
func commandCommand(args [][]byte, resp3 bool) []byte {
	infos := commandInfo
	if resp3 {
		infos = commandInfo3
	}
	if len(args) == 1 {
		out := appendArrayHeader(nil, len(commandList))
		for _, c := range commandList {
			out = append(out, infos[c.name]...)
		}
		return out
	}
	sub, err := findSub("command", "COMMAND", commandSubs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "help":
		return commandHelp
	case "count":
		return appendInt(nil, int64(len(commandList)))
	case "list":
		if len(args) > 2 {
			return errSyntax // Redis's FILTERBY is not supported
		}
		out := appendArrayHeader(nil, len(commandList))
		for _, c := range commandList {
			out = appendBulk(out, []byte(c.name))
		}
		return out
	case "info":
		names := args[2:]
		if len(names) == 0 {
			return commandCommand(args[:1], resp3)
		}
		out := appendArrayHeader(nil, len(names))
		for _, n := range names {
			if c := lookup(n); c != nil {
				out = append(out, infos[c.name]...)
			} else {
				out = append(out, null(resp3)...)
			}
		}
		return out
	}
	return appendMapHeader(nil, 0, resp3) // docs
}

var configSubs = []subcommand{{"get", -3}, {"set", -4}, {"resetstat", 2}, {"rewrite", 2}, {"help", 2}}

var configHelp = helpReply(
	"CONFIG <subcommand> [<arg> ...]. The subcommands this server answers:",
	"GET <pattern> [<pattern> ...]",
	"    Return the parameters whose names match the glob patterns: save, appendonly and databases.",
	"SET <parameter> <value> [<parameter> <value> ...]",
	"    Refused: no parameter can be set.",
	"RESETSTAT",
	"    Accepted; there are no statistics to reset.",
	"REWRITE",
	"    Refused: the server runs without a config file.",
	"HELP",
	"    Print this help.",
)

// configParams are the parameters CONFIG GET reports: those redis-benchmark reads at start,
// and the number of databases.
var configParams = [...][2]string{{"save", ""}, {"appendonly", "no"}, {"databases", strconv.Itoa(numDBs)}}

// configCommand answers CONFIG GET as Redis 7 does (several parameters or glob patterns; a
// name without a pattern is answered as the client spelled it) for configParams; CONFIG SET
// sets nothing.
func configCommand(args [][]byte, resp3 bool) []byte {
	sub, err := findSub("config", "CONFIG", configSubs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "set":
		return errorReply("ERR Unknown option or number of arguments for CONFIG SET - '" + errArg(args[2], 0) + "'")
	case "resetstat":
		return replyOK
	case "rewrite":
		return errorReply("ERR The server is running without a config file")
	case "help":
		return configHelp
	}
	var found [len(configParams)]bool
	var pairs [][]byte
	for _, a := range args[2:] {
		pattern := bytes.ToLower(a)
		glob := bytes.ContainsAny(a, "[*?")
		for i, kv := range configParams {
			if found[i] {
				continue
			}
			if glob {
				if ok, _ := path.Match(string(pattern), kv[0]); ok {
					found[i] = true
					pairs = append(pairs, []byte(kv[0]), []byte(kv[1]))
				}
			} else if string(pattern) == kv[0] {
				found[i] = true
				pairs = append(pairs, a, []byte(kv[1]))
			}
		}
	}
	out := appendMapHeader(nil, len(pairs)/2, resp3)
	for _, v := range pairs {
		out = appendBulk(out, v)
	}
	return out
}

// started is when the server process started, for INFO's uptime.
var started = time.Now()

// info answers INFO with Redis's server section, the one section clients read (the
// version); the other sections, and sections Redis does not have, are empty. RESP3 has it
// as a verbatim string of text.
func info(args [][]byte, resp3 bool) []byte {
	want := len(args) == 1
	for _, a := range args[1:] {
		want = want || equalFold(a, "server") || equalFold(a, "default") || equalFold(a, "all") || equalFold(a, "everything")
	}
	if !want {
		return appendText(nil, "", resp3)
	}
	up := int64(time.Since(started).Seconds())
	s := "# Server\r\nredis_version:" + version + "\r\nredis_mode:standalone\r\nos:" + runtime.GOOS + " " + runtime.GOARCH +
		"\r\narch_bits:" + strconv.Itoa(strconv.IntSize) + "\r\nprocess_id:" + strconv.Itoa(os.Getpid()) +
		"\r\nuptime_in_seconds:" + strconv.FormatInt(up, 10) + "\r\nuptime_in_days:" + strconv.FormatInt(up/86400, 10) + "\r\n"
	return appendText(nil, s, resp3)
}

// appendText encodes text as a bulk string, or as RESP3's verbatim string of format txt.
func appendText(out []byte, s string, resp3 bool) []byte {
	if !resp3 {
		return appendBulk(out, []byte(s))
	}
	out = append(out, '=')
	out = strconv.AppendInt(out, int64(len(s)+4), 10)
	out = append(out, "\r\ntxt:"...)
	out = append(out, s...)
	return append(out, '\r', '\n')
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
