//go:build darwin || freebsd || dragonfly

package poller

// loopFDs is what New opens where kqueue has EVFILT_USER: the kqueue alone,
// which is its own wake channel.
const loopFDs = 1
