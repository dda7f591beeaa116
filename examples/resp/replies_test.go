package main

import (
	"os"
	"strings"
	"testing"
)

// mb encodes a request as a RESP array of bulk strings, as client libraries send it.
func mb(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

// replyCases are requests and the exact bytes redis-server 7.0.15 answered them with, each
// on a fresh connection to an empty database (taken with a raw socket, side by side with
// this server). closed: the server then closes the connection.
type replyCase struct {
	name   string
	send   string
	want   string
	closed bool
}

var replyCases = []replyCase{
	// Unknown commands: the name cut at 128 bytes, arguments while the list is under 128
	// bytes (the last one cut), each up to a NUL byte, CR and LF turned into spaces, other
	// bytes as they are. Before, the list stopped after 8 arguments, each cut at 64 bytes
	// with "...", and control bytes were escaped.
	{"unknown command", mb("FOO", "a", "b"), "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n", false},
	{"unknown command without arguments", mb("FOO"), "-ERR unknown command 'FOO', with args beginning with: \r\n", false},
	{"unknown command, many arguments", mb("FOO", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"),
		"-ERR unknown command 'FOO', with args beginning with: '0' '1' '2' '3' '4' '5' '6' '7' '8' '9' '10' '11' \r\n", false},
	{"unknown command, long arguments", mb("FOO", strings.Repeat("a", 100), strings.Repeat("b", 100), "c"),
		"-ERR unknown command 'FOO', with args beginning with: '" + strings.Repeat("a", 100) + "' '" + strings.Repeat("b", 25) + "' \r\n", false},
	{"unknown command, argument cut to fit", mb("FOO", strings.Repeat("a", 300)),
		"-ERR unknown command 'FOO', with args beginning with: '" + strings.Repeat("a", 128) + "' \r\n", false},
	{"unknown command, long name", mb(strings.Repeat("F", 200)), "-ERR unknown command '" + strings.Repeat("F", 128) + "', with args beginning with: \r\n", false},
	{"unknown command, odd bytes", mb("FO'O", "a\x00b", "c\r\nd", "\x01\xff"),
		"-ERR unknown command 'FO'O', with args beginning with: 'a' 'c  d' '\x01\xff' \r\n", false},
	{"unknown command inline", "FOO bar\r\n", "-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n", false},
	{"wrong arity", mb("GET"), "-ERR wrong number of arguments for 'get' command\r\n", false},
	{"command names ignore case", mb("pInG") + mb("sEt", "k", "v") + mb("GeT", "k"), "+PONG\r\n+OK\r\n$1\r\nv\r\n", false},

	// Integers as string2ll reads them.
	{"INCR of minus zero", mb("SET", "n", "-0") + mb("INCR", "n"), "+OK\r\n-ERR value is not an integer or out of range\r\n", false},
	{"INCR at the maximum", mb("SET", "n", "9223372036854775807") + mb("INCR", "n"), "+OK\r\n-ERR increment or decrement would overflow\r\n", false},
	{"DECRBY the minimum", mb("DECRBY", "n", "-9223372036854775808"), "-ERR decrement would overflow\r\n", false},
	{"INCRBY the minimum", mb("INCRBY", "n", "-9223372036854775808"), ":-9223372036854775808\r\n", false},
	{"SET EX 0", mb("SET", "k", "v", "EX", "0"), "-ERR invalid expire time in 'set' command\r\n", false},
	{"EXISTS counts repeats", mb("SET", "k", "v") + mb("EXISTS", "k", "k", "nope", "k"), "+OK\r\n:3\r\n", false},
	{"TTL and PTTL", mb("TTL", "nope") + mb("PTTL", "nope") + mb("SET", "k", "v") + mb("TTL", "k") + mb("PTTL", "k"), ":-2\r\n:-2\r\n+OK\r\n:-1\r\n:-1\r\n", false},

	// Databases: SELECT takes 0 to 15, each with its own keys; FLUSHDB empties one,
	// FLUSHALL all. Before, only SELECT 0 was accepted.
	{"SELECT", mb("SELECT", "15") + mb("SELECT", "16") + mb("SELECT", "-1") + mb("SELECT", "x"),
		"+OK\r\n-ERR DB index is out of range\r\n-ERR DB index is out of range\r\n-ERR value is not an integer or out of range\r\n", false},
	{"databases are apart", mb("SET", "k", "0") + mb("SELECT", "1") + mb("GET", "k") + mb("MSET", "k", "1", "j", "1") + mb("DBSIZE") +
		mb("SELECT", "0") + mb("MGET", "k", "j") + mb("DBSIZE"),
		"+OK\r\n+OK\r\n$-1\r\n+OK\r\n:2\r\n+OK\r\n*2\r\n$1\r\n0\r\n$-1\r\n:1\r\n", false},
	{"FLUSHDB", mb("SET", "k", "0") + mb("SELECT", "1") + mb("SET", "k", "1") + mb("FLUSHDB") + mb("DBSIZE") + mb("SELECT", "0") + mb("GET", "k") +
		mb("FLUSHDB", "x") + mb("FLUSHDB", "ASYNC"),
		"+OK\r\n+OK\r\n+OK\r\n+OK\r\n:0\r\n+OK\r\n$1\r\n0\r\n-ERR syntax error\r\n+OK\r\n", false},
	{"FLUSHALL", mb("SELECT", "2") + mb("SET", "k", "2") + mb("FLUSHALL") + mb("GET", "k"), "+OK\r\n+OK\r\n+OK\r\n$-1\r\n", false},

	// What clients send while connecting.
	{"HELLO versions", mb("HELLO", "0") + mb("HELLO", "4") + mb("HELLO", "x") + mb("HELLO", "2", "x"),
		"-NOPROTO unsupported protocol version\r\n-NOPROTO unsupported protocol version\r\n" +
			"-ERR Protocol version is not an integer or out of range\r\n-ERR Syntax error in HELLO option 'x'\r\n", false},
	{"HELLO checks its options before the version it lacks", mb("HELLO", "3", "x"), "-ERR Syntax error in HELLO option 'x'\r\n", false},
	{"HELLO AUTH", mb("HELLO", "2", "AUTH", "bob", "pw"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n", false},
	{"HELLO SETNAME checks the name", mb("HELLO", "2", "SETNAME", "a b"), "-ERR Client names cannot contain spaces, newlines or special characters.\r\n", false},
	{"AUTH", mb("AUTH", "pw") + mb("AUTH", "default", "pw") + mb("AUTH", "bob", "pw") + mb("AUTH", "a", "b", "c"),
		"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n" +
			"+OK\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n-ERR syntax error\r\n", false},
	{"CLIENT SETNAME", mb("CLIENT", "GETNAME") + mb("CLIENT", "SETNAME", "ab") + mb("CLIENT", "GETNAME") + mb("CLIENT", "SETNAME", "a b") +
		mb("CLIENT", "SETNAME", "") + mb("CLIENT", "GETNAME"),
		"$-1\r\n+OK\r\n$2\r\nab\r\n-ERR Client names cannot contain spaces, newlines or special characters.\r\n+OK\r\n$-1\r\n", false},
	{"CLIENT errors", mb("CLIENT", "FOO") + mb("CLIENT", "SETNAME") + mb("CLIENT", "GETNAME", "x") + mb("CLIENT"),
		"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n-ERR wrong number of arguments for 'client|setname' command\r\n" +
			"-ERR wrong number of arguments for 'client|getname' command\r\n-ERR wrong number of arguments for 'client' command\r\n", false},
	// CLIENT SETINFO is Redis 7.2's (7.0.15 does not have it).
	{"CLIENT SETINFO", mb("CLIENT", "SETINFO", "LIB-NAME", "go-redis") + mb("CLIENT", "SETINFO", "foo", "x") + mb("CLIENT", "SETINFO", "lib-ver", "1 2"),
		"+OK\r\n-ERR Unrecognized option 'foo'\r\n-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n", false},
	{"COMMAND INFO", mb("COMMAND", "INFO", "get", "nosuch"), "*2\r\n" + commandInfo["get"] + "$-1\r\n", false},
	{"COMMAND errors", mb("COMMAND", "FOO") + mb("COMMAND", "COUNT", "x"),
		"-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n-ERR wrong number of arguments for 'command|count' command\r\n", false},
	{"CONFIG GET", mb("CONFIG", "GET", "SAVE") + mb("CONFIG", "GET", "appendonl*") + mb("CONFIG", "GET", "nosuch") + mb("CONFIG", "GET"),
		"*2\r\n$4\r\nSAVE\r\n$0\r\n\r\n*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n*0\r\n-ERR wrong number of arguments for 'config|get' command\r\n", false},
	// HELP with an argument: the error named HELP an unknown subcommand, while telling the
	// client to try it.
	{"HELP with arguments", mb("CONFIG", "HELP", "x") + mb("CLIENT", "HELP", "x") + mb("COMMAND", "HELP", "x"),
		"-ERR wrong number of arguments for 'config|help' command\r\n-ERR wrong number of arguments for 'client|help' command\r\n" +
			"-ERR wrong number of arguments for 'command|help' command\r\n", false},
	{"CONFIG others", mb("CONFIG", "SET", "x", "y") + mb("CONFIG", "RESETSTAT") + mb("CONFIG", "FOO"),
		"-ERR Unknown option or number of arguments for CONFIG SET - 'x'\r\n+OK\r\n-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n", false},
	{"INFO of a section Redis lacks", mb("INFO", "foo"), "$0\r\n\r\n", false},

	// Requests as processMultibulkBuffer and processInlineBuffer read them.
	{"bulk length not a number", "*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"multibulk length not a number", "*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"multibulk length with a leading zero", "*01\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"bulk length with a plus", "*1\r\n$+4\r\nPING\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"bulk length over 512 MiB", "*1\r\n$600000000\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"negative bulk length", "*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"multibulk length then LF", "*1\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"bulk without its CRLF", "*1\r\n$4\r\nPINGxx\r\n", "+PONG\r\n", false},
	{"negative multibulk length", "*-100\r\nPING\r\n", "+PONG\r\n", false},
	{"expected a bulk", "*1\r\n:4\r\nPING\r\n", "-ERR Protocol error: expected '$', got ':'\r\n", true},
	{"error after a reply", mb("PING") + "*1\r\n$x\r\n" + mb("PING"), "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n", true},
	{"unbalanced quotes", "SET a \"x\r\nPING\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", true},
	{"empty lines", "\r\n\r\n\n  \r\nPING\r\n", "+PONG\r\n", false},
	{"QUIT", mb("QUIT") + mb("PING"), "+OK\r\n", true},

	// Transactions. Before, MULTI, EXEC, DISCARD, WATCH and UNWATCH were unknown commands.
	{"MULTI and EXEC", mb("MULTI") + mb("SET", "k", "v") + mb("INCR", "n") + mb("GET", "k") + mb("EXEC") + mb("GET", "k"),
		"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:1\r\n$1\r\nv\r\n$1\r\nv\r\n", false},
	{"empty transaction", mb("MULTI") + mb("EXEC"), "+OK\r\n*0\r\n", false},
	{"MULTI nested", mb("MULTI") + mb("MULTI") + mb("SET", "k", "1") + mb("EXEC"), "+OK\r\n-ERR MULTI calls can not be nested\r\n+QUEUED\r\n*1\r\n+OK\r\n", false},
	{"transaction commands out of place", mb("EXEC") + mb("DISCARD") + mb("MULTI", "x") + mb("WATCH") + mb("UNWATCH") + mb("WATCH", "a", "b"),
		"-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n-ERR wrong number of arguments for 'multi' command\r\n" +
			"-ERR wrong number of arguments for 'watch' command\r\n+OK\r\n+OK\r\n", false},
	{"EXECABORT after a wrong number of arguments", mb("MULTI") + mb("SET", "k", "v") + mb("GET") + mb("EXEC") + mb("GET", "k"),
		"+OK\r\n+QUEUED\r\n-ERR wrong number of arguments for 'get' command\r\n-EXECABORT Transaction discarded because of previous errors.\r\n$-1\r\n", false},
	// Unknown subcommands, and subcommands with the wrong number of arguments, were queued,
	// and the commands queued with them ran at EXEC (the name below was set).
	{"EXECABORT after an unknown subcommand", mb("MULTI") + mb("CLIENT", "SETNAME", "ok") + mb("CLIENT", "FOO") + mb("EXEC") + mb("CLIENT", "GETNAME"),
		"+OK\r\n+QUEUED\r\n-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n-EXECABORT Transaction discarded because of previous errors.\r\n$-1\r\n", false},
	{"EXECABORT after a subcommand's wrong number of arguments", mb("MULTI") + mb("CLIENT", "SETNAME") + mb("CONFIG", "GET") + mb("COMMAND", "COUNT", "x") + mb("COMMAND") + mb("EXEC"),
		"+OK\r\n-ERR wrong number of arguments for 'client|setname' command\r\n-ERR wrong number of arguments for 'config|get' command\r\n" +
			"-ERR wrong number of arguments for 'command|count' command\r\n+QUEUED\r\n-EXECABORT Transaction discarded because of previous errors.\r\n", false},
	{"EXECABORT after an unknown command", mb("MULTI") + mb("SET", "k", "v") + mb("FOO") + mb("EXEC") + mb("EXEC"),
		"+OK\r\n+QUEUED\r\n-ERR unknown command 'FOO', with args beginning with: \r\n-EXECABORT Transaction discarded because of previous errors.\r\n" +
			"-ERR EXEC without MULTI\r\n", false},
	{"EXEC with arguments", mb("MULTI") + mb("MSET", "a", "1", "b") + mb("PING", "a", "b") + mb("EXEC") + mb("EXEC", "x") + mb("MULTI") + mb("EXEC", "x") + mb("EXEC"),
		"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-ERR wrong number of arguments for 'mset' command\r\n-ERR wrong number of arguments for 'ping' command\r\n" +
			"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n+OK\r\n" +
			"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n-ERR EXEC without MULTI\r\n", false},
	{"WATCH inside MULTI", mb("MULTI") + mb("WATCH", "k") + mb("SET", "k", "1") + mb("EXEC"), "+OK\r\n-ERR WATCH inside MULTI is not allowed\r\n+QUEUED\r\n*1\r\n+OK\r\n", false},
	{"runtime errors inside EXEC", mb("SET", "s", "x") + mb("MULTI") + mb("INCR", "s") + mb("SET", "a", "1") + mb("INCR", "a") + mb("MGET", "a", "s", "zz") + mb("EXEC"),
		"+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n-ERR value is not an integer or out of range\r\n+OK\r\n:2\r\n*3\r\n$1\r\n2\r\n$1\r\nx\r\n$-1\r\n", false},
	{"multi-shard commands inside EXEC", mb("MULTI") + mb("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5") + mb("DEL", "a", "b", "nope") +
		mb("EXISTS", "a", "c", "d", "e") + mb("DBSIZE") + mb("MGET", "e", "a", "d") + mb("FLUSHDB") + mb("DBSIZE") + mb("EXEC"),
		"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*7\r\n+OK\r\n:2\r\n:3\r\n:3\r\n*3\r\n$1\r\n5\r\n$-1\r\n$1\r\n4\r\n+OK\r\n:0\r\n", false},
	{"SELECT inside MULTI", mb("MULTI") + mb("SELECT", "2") + mb("SET", "k", "1") + mb("PING") + mb("ECHO", "e") + mb("EXEC") + mb("GET", "k") + mb("SELECT", "0") + mb("GET", "k"),
		"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n+OK\r\n+OK\r\n+PONG\r\n$1\r\ne\r\n$1\r\n1\r\n+OK\r\n$-1\r\n", false},
	{"connection commands inside MULTI", mb("MULTI") + mb("UNWATCH") + mb("CLIENT", "SETNAME", "x") + mb("CLIENT", "GETNAME") + mb("AUTH", "default", "x") +
		mb("DBSIZE") + mb("FLUSHALL", "x") + mb("CONFIG", "GET", "save") + mb("EXEC"),
		"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*7\r\n+OK\r\n+OK\r\n$1\r\nx\r\n+OK\r\n:0\r\n-ERR syntax error\r\n" +
			"*2\r\n$4\r\nsave\r\n$0\r\n\r\n", false},
	{"DISCARD", mb("MULTI") + mb("SET", "k", "1") + mb("DISCARD") + mb("DISCARD") + mb("EXEC") + mb("GET", "k"),
		"+OK\r\n+QUEUED\r\n+OK\r\n-ERR DISCARD without MULTI\r\n-ERR EXEC without MULTI\r\n$-1\r\n", false},
	{"DISCARD with arguments inside MULTI", mb("MULTI") + mb("DISCARD", "x") + mb("EXEC"),
		"+OK\r\n-ERR wrong number of arguments for 'discard' command\r\n-EXECABORT Transaction discarded because of previous errors.\r\n", false},
	{"QUIT inside MULTI", mb("MULTI") + mb("SET", "k", "1") + mb("QUIT") + mb("EXEC"), "+OK\r\n+QUEUED\r\n+OK\r\n", true},

	// WATCH: EXEC answers the null array when a watched key changed, by any client (this
	// one too) and by any write that took effect; one that did not, or a FLUSHALL of a
	// missing key, does not count. The watched and queued keys here share one shard (a
	// single key), which the graph needs (see the README).
	{"WATCH then a write", mb("WATCH", "k") + mb("SET", "k", "1") + mb("MULTI") + mb("GET", "k") + mb("EXEC") + mb("MULTI") + mb("GET", "k") + mb("EXEC"),
		"+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n+OK\r\n+QUEUED\r\n*1\r\n$1\r\n1\r\n", false},
	{"WATCH without a write", mb("SET", "k", "1") + mb("WATCH", "k", "k") + mb("GET", "k") + mb("SET", "k", "2", "NX") + mb("EXPIRE", "k", "10", "XX") + mb("MULTI") + mb("INCR", "k") + mb("EXEC"),
		"+OK\r\n+OK\r\n$1\r\n1\r\n$-1\r\n:0\r\n+OK\r\n+QUEUED\r\n*1\r\n:2\r\n", false},
	{"WATCH and a failed INCR", mb("SET", "k", "x") + mb("WATCH", "k") + mb("INCR", "k") + mb("MULTI") + mb("GET", "k") + mb("EXEC"),
		"+OK\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n+QUEUED\r\n*1\r\n$1\r\nx\r\n", false},
	{"WATCH then DEL and EXPIRE", mb("SET", "k", "1") + mb("WATCH", "k") + mb("EXPIRE", "k", "100") + mb("MULTI") + mb("PING") + mb("EXEC") +
		mb("WATCH", "k") + mb("DEL", "k") + mb("MULTI") + mb("PING") + mb("EXEC") + mb("WATCH", "k") + mb("DEL", "k") + mb("MULTI") + mb("PING") + mb("EXEC"),
		"+OK\r\n+OK\r\n:1\r\n+OK\r\n+QUEUED\r\n*-1\r\n+OK\r\n:1\r\n+OK\r\n+QUEUED\r\n*-1\r\n+OK\r\n:0\r\n+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n", false},
	{"WATCH and FLUSHALL", mb("WATCH", "k") + mb("FLUSHALL") + mb("MULTI") + mb("PING") + mb("EXEC") + mb("SET", "k", "1") + mb("WATCH", "k") + mb("FLUSHALL") +
		mb("MULTI") + mb("PING") + mb("EXEC"),
		"+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n", false},
	{"UNWATCH", mb("WATCH", "k") + mb("SET", "k", "1") + mb("UNWATCH") + mb("MULTI") + mb("GET", "k") + mb("EXEC"),
		"+OK\r\n+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n$1\r\n1\r\n", false},
	{"DISCARD and EXECABORT forget watched keys", mb("WATCH", "k") + mb("SET", "k", "1") + mb("MULTI") + mb("DISCARD") + mb("MULTI") + mb("GET", "k") + mb("EXEC") +
		mb("WATCH", "k") + mb("SET", "k", "2") + mb("MULTI") + mb("FOO") + mb("EXEC") + mb("MULTI") + mb("GET", "k") + mb("EXEC"),
		"+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n$1\r\n1\r\n+OK\r\n+OK\r\n+OK\r\n" +
			"-ERR unknown command 'FOO', with args beginning with: \r\n-EXECABORT Transaction discarded because of previous errors.\r\n+OK\r\n+QUEUED\r\n*1\r\n$1\r\n2\r\n", false},
	{"WATCH and an empty transaction", mb("WATCH", "k") + mb("MULTI") + mb("EXEC") + mb("WATCH", "k") + mb("INCR", "k") + mb("MULTI") + mb("EXEC"),
		"+OK\r\n+OK\r\n*0\r\n+OK\r\n:1\r\n+OK\r\n*-1\r\n", false},
	{"WATCH a key the transaction writes", mb("WATCH", "k") + mb("MULTI") + mb("SET", "k", "1") + mb("INCR", "k") + mb("EXEC"),
		"+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:2\r\n", false},
	{"WATCH and commands that write nothing", mb("SET", "k", "1") + mb("WATCH", "k") + mb("PERSIST", "k") + mb("SETNX", "k", "2") + mb("GETEX", "k") +
		mb("STRLEN", "k") + mb("TYPE", "k") + mb("EXPIRETIME", "k") + mb("MULTI") + mb("GET", "k") + mb("EXEC"),
		"+OK\r\n+OK\r\n:0\r\n:0\r\n$1\r\n1\r\n:1\r\n+string\r\n:-1\r\n+OK\r\n+QUEUED\r\n*1\r\n$1\r\n1\r\n", false},
	{"WATCH then PERSIST, APPEND and GETDEL", mb("SET", "k", "1", "EX", "100") + mb("WATCH", "k") + mb("PERSIST", "k") + mb("MULTI") + mb("PING") + mb("EXEC") +
		mb("WATCH", "k") + mb("APPEND", "k", "x") + mb("MULTI") + mb("PING") + mb("EXEC") + mb("WATCH", "k") + mb("GETDEL", "k") + mb("MULTI") + mb("PING") + mb("EXEC"),
		"+OK\r\n+OK\r\n:1\r\n+OK\r\n+QUEUED\r\n*-1\r\n+OK\r\n:2\r\n+OK\r\n+QUEUED\r\n*-1\r\n+OK\r\n$2\r\n1x\r\n+OK\r\n+QUEUED\r\n*-1\r\n", false},
	{"new commands in a transaction", mb("MULTI") + mb("SETNX", "k", "a") + mb("APPEND", "k", "b") + mb("GETSET", "k", "c") + mb("GETDEL", "k") + mb("TYPE", "k") + mb("EXEC"),
		"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*5\r\n:1\r\n:2\r\n$2\r\nab\r\n$1\r\nc\r\n+none\r\n", false},
}

// resp3ReplyCases are replies on a connection that switched to RESP3 with HELLO 3, whose
// own reply (with the connection's id) is not compared: the missing value is "_", maps are
// maps and INFO is verbatim text. Before, HELLO 3 answered NOPROTO and the server spoke
// RESP2 only.
var resp3ReplyCases = []replyCase{
	{"RESP3 nulls", mb("GET", "nope") + mb("MGET", "a", "b", "c", "d") + mb("SET", "k", "v", "NX") + mb("SET", "k", "v", "NX") +
		mb("CLIENT", "GETNAME") + mb("SET", "z", "1", "GET") + mb("COMMAND", "INFO", "nosuch"),
		"_\r\n*4\r\n_\r\n_\r\n_\r\n_\r\n+OK\r\n_\r\n_\r\n_\r\n*1\r\n_\r\n", false},
	{"RESP3 nulls of the newer commands", mb("GETDEL", "nope") + mb("GETSET", "g", "v") + mb("GETEX", "nope") + mb("TYPE", "nope") + mb("GETDEL", "g"),
		"_\r\n_\r\n_\r\n+none\r\n$1\r\nv\r\n", false},
	{"RESP3 values", mb("MSET", "a", "1", "c", "3") + mb("MGET", "a", "b", "c") + mb("SET", "a", "2", "GET") + mb("INCR", "n") + mb("DEL", "a", "b", "c"),
		"+OK\r\n*3\r\n$1\r\n1\r\n_\r\n$1\r\n3\r\n$1\r\n1\r\n:1\r\n:2\r\n", false},
	{"RESP3 maps", mb("CONFIG", "GET", "save") + mb("COMMAND", "DOCS", "x") + mb("INFO", "foo") + mb("COMMAND", "INFO", "get"),
		"%1\r\n$4\r\nsave\r\n$0\r\n\r\n%0\r\n=4\r\ntxt:\r\n*1\r\n" + commandInfo3["get"], false},
	{"HELLO 3 then an error", mb("HELLO", "3", "x") + mb("GET", "nope"), "-ERR Syntax error in HELLO option 'x'\r\n_\r\n", false},
	{"RESP3 transactions", mb("MULTI") + mb("GET", "nope") + mb("MGET", "a", "b", "c") + mb("CONFIG", "GET", "save") + mb("EXEC") +
		mb("WATCH", "k") + mb("SET", "k", "1") + mb("MULTI") + mb("GET", "k") + mb("EXEC"),
		"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n_\r\n*3\r\n_\r\n_\r\n_\r\n%1\r\n$4\r\nsave\r\n$0\r\n\r\n+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n_\r\n", false},
}

// TestRepliesMatchRedis sends each case on a fresh connection and compares the reply bytes
// with redis-server's; a connection the server must close has to end with nothing more.
func TestRepliesMatchRedis(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		checkReplies(t, s.Addr(), true)
	})
}

// TestRepliesOfRedisServer runs the cases against a real redis-server, to check the table
// itself: RESP_REDIS_ADDR=127.0.0.1:6379 go test -run TestRepliesOfRedisServer. It flushes
// that server's data. Cases of Redis 7.2 are left out (the table was taken from 7.0.15).
func TestRepliesOfRedisServer(t *testing.T) {
	addr := os.Getenv("RESP_REDIS_ADDR")
	if addr == "" {
		t.Skip("RESP_REDIS_ADDR is not set")
	}
	checkReplies(t, addr, false)
}

func checkReplies(t *testing.T, addr string, ours bool) {
	admin := dialRaw(t, addr)
	run := func(tc replyCase, resp3 bool) {
		if !ours && strings.Contains(tc.send, "SETINFO") {
			return
		}
		t.Run(tc.name, func(t *testing.T) {
			admin.send(mb("FLUSHALL"))
			admin.expect("+OK\r\n")
			c := dialRaw(t, addr)
			if resp3 {
				c.send(mb("HELLO", "3"))
				c.skipHello3()
			}
			c.send(tc.send)
			c.expect(tc.want)
			if tc.closed {
				c.expectClosed()
				return
			}
			c.send(mb("ECHO", "still-here"))
			c.expect("$10\r\nstill-here\r\n")
		})
	}
	for _, tc := range replyCases {
		run(tc, false)
	}
	for _, tc := range resp3ReplyCases {
		run(tc, true)
	}
}

// skipHello3 reads HELLO 3's answer, a map of 7 pairs that ends with "modules" and its
// empty array.
func (c *rawConn) skipHello3() {
	c.t.Helper()
	c.expect("%7\r\n")
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading HELLO 3's answer: %v", err)
		}
		if line == "modules\r\n" {
			c.expect("*0\r\n")
			return
		}
	}
}

// TestCommandInfoCoversTheTable: COMMAND answers an entry for every command, named as the
// table names it.
func TestCommandInfoCoversTheTable(t *testing.T) {
	if len(commandInfo) != len(commandList) {
		t.Fatalf("%d COMMAND INFO entries for %d commands", len(commandInfo), len(commandList))
	}
	for _, c := range commandList {
		info, ok := commandInfo[c.name]
		if want := mb(c.name)[4:]; !ok || !strings.HasPrefix(info, "*10\r\n"+want) {
			t.Errorf("COMMAND INFO entry of %q = %.40q", c.name, info)
		}
	}
}
