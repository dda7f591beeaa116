//go:build !(linux || darwin || freebsd)

package main

import "net"

// tryWriter writes nothing where the example has no non-blocking write of its own: the
// writer goroutine writes everything.
type tryWriter struct{}

func (t *tryWriter) init(*net.TCPConn) {}

func (t *tryWriter) write(*outbuf) bool { return true }
