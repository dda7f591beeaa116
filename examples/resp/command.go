package main

// cmdID names a command for the executor's switch.
type cmdID uint8

const (
	cmdPing cmdID = iota
	cmdEcho
	cmdQuit
	cmdHello
	cmdCommand
	cmdClient
	cmdSelect
	cmdConfig
	cmdSet
	cmdGet
	cmdIncr
	cmdIncrBy
	cmdDecr
	cmdDecrBy
	cmdExpire
	cmdPExpire
	cmdTTL
	cmdPTTL
	cmdDel
	cmdExists
	cmdMGet
	cmdMSet
	cmdDBSize
	cmdFlushAll
	cmdFlushDB
	cmdAuth
	cmdInfo
	cmdMulti
	cmdExec
	cmdDiscard
	cmdWatch
	cmdUnwatch
	cmdSetNX
	cmdSetEX
	cmdPSetEX
	cmdGetSet
	cmdGetDel
	cmdGetEx
	cmdAppend
	cmdStrlen
	cmdPersist
	cmdType
	cmdExpireAt
	cmdPExpireAt
	cmdExpireTime
	cmdPExpireTime
)

// cmdKind says where a command runs and how it is split.
type cmdKind uint8

const (
	// kindConn commands touch no key: the parser answers them, since it owns the
	// connection's state (its name, its protocol), and the reply only passes through a worker
	// to keep its place in the connection's order.
	kindConn cmdKind = iota
	// kindKey commands touch the key in args[1] only: one part, on that key's shard.
	kindKey
	// kindMulti commands touch the keys from args[1] on, every step-th argument: one part
	// per shard touched, merged by the replier.
	kindMulti
	// kindAll commands touch every shard: one part per shard.
	kindAll
	// kindTx commands make and end transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH):
	// the parser keeps a connection's transaction (transaction.go).
	kindTx
)

type command struct {
	name  string
	id    cmdID
	arity int // as Redis counts it: the name included; negative means "at least -arity"
	kind  cmdKind
	step  int // for kindMulti: 1 for keys, 2 for key-value pairs
}

var commandList = []command{
	{"ping", cmdPing, -1, kindConn, 0},
	{"echo", cmdEcho, 2, kindConn, 0},
	{"quit", cmdQuit, -1, kindConn, 0},
	{"hello", cmdHello, -1, kindConn, 0},
	{"command", cmdCommand, -1, kindConn, 0},
	{"client", cmdClient, -2, kindConn, 0},
	{"select", cmdSelect, 2, kindConn, 0},
	{"config", cmdConfig, -2, kindConn, 0},
	{"auth", cmdAuth, -2, kindConn, 0},
	{"info", cmdInfo, -1, kindConn, 0},
	{"set", cmdSet, -3, kindKey, 0},
	{"get", cmdGet, 2, kindKey, 0},
	{"incr", cmdIncr, 2, kindKey, 0},
	{"incrby", cmdIncrBy, 3, kindKey, 0},
	{"decr", cmdDecr, 2, kindKey, 0},
	{"decrby", cmdDecrBy, 3, kindKey, 0},
	{"expire", cmdExpire, -3, kindKey, 0},
	{"pexpire", cmdPExpire, -3, kindKey, 0},
	{"ttl", cmdTTL, 2, kindKey, 0},
	{"pttl", cmdPTTL, 2, kindKey, 0},
	{"setnx", cmdSetNX, 3, kindKey, 0},
	{"setex", cmdSetEX, 4, kindKey, 0},
	{"psetex", cmdPSetEX, 4, kindKey, 0},
	{"getset", cmdGetSet, 3, kindKey, 0},
	{"getdel", cmdGetDel, 2, kindKey, 0},
	{"getex", cmdGetEx, -2, kindKey, 0},
	{"append", cmdAppend, 3, kindKey, 0},
	{"strlen", cmdStrlen, 2, kindKey, 0},
	{"persist", cmdPersist, 2, kindKey, 0},
	{"type", cmdType, 2, kindKey, 0},
	{"expireat", cmdExpireAt, -3, kindKey, 0},
	{"pexpireat", cmdPExpireAt, -3, kindKey, 0},
	{"expiretime", cmdExpireTime, 2, kindKey, 0},
	{"pexpiretime", cmdPExpireTime, 2, kindKey, 0},
	{"del", cmdDel, -2, kindMulti, 1},
	{"exists", cmdExists, -2, kindMulti, 1},
	{"mget", cmdMGet, -2, kindMulti, 1},
	{"mset", cmdMSet, -3, kindMulti, 2},
	{"dbsize", cmdDBSize, 1, kindAll, 0},
	{"flushall", cmdFlushAll, -1, kindAll, 0},
	{"flushdb", cmdFlushDB, -1, kindAll, 0},
	{"multi", cmdMulti, 1, kindTx, 0},
	{"exec", cmdExec, 1, kindTx, 0},
	{"discard", cmdDiscard, 1, kindTx, 0},
	{"watch", cmdWatch, -2, kindTx, 1},
	{"unwatch", cmdUnwatch, 1, kindTx, 0},
}

var commands = func() map[string]*command {
	m := make(map[string]*command, len(commandList))
	for i := range commandList {
		m[commandList[i].name] = &commandList[i]
	}
	return m
}()

// lookup finds a command by name, ignoring ASCII case, without allocating.
func lookup(name []byte) *command {
	var lower [16]byte
	if len(name) > len(lower) {
		return nil
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return commands[string(lower[:len(name)])]
}

// arityOK checks the argument count the way Redis does before it runs or queues a command.
func (c *command) arityOK(n int) bool {
	if c.arity >= 0 {
		return n == c.arity
	}
	return n >= -c.arity
}

// pairsOK checks that MSET has whole key-value pairs, which Redis checks only when it runs
// the command: a MULTI queues an MSET with half a pair, and EXEC answers its error.
func (c *command) pairsOK(n int) bool { return c.step != 2 || (n-1)%2 == 0 }

// errArity is Redis's reply to a command with the wrong number of arguments.
func errArity(c *command) []byte {
	return errorReply("ERR wrong number of arguments for '" + c.name + "' command")
}
