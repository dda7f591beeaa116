package main

import "golang.org/x/sys/unix"

// unreadInput reports whether the socket holds input the server has not read. A connection
// closed after a protocol error ends with a reset only then (resetOnClose): that is when the
// client may still be uploading what the server will not read, and it is when closing a
// socket sends a reset anyway, as redis-server's close does. With nothing unread, a client
// that reads the error and then the end of the stream sees a FIN, as from redis-server.
func unreadInput(fd int) bool {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	return err != nil || n > 0
}
