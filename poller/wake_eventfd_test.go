//go:build linux

package poller

// loopFDs is what New opens on Linux: the epoll descriptor and the eventfd.
const loopFDs = 2
