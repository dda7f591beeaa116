//go:build netbsd || openbsd

package poller

// loopFDs is what New opens where kqueue has no EVFILT_USER: the kqueue and
// both ends of the wake pipe.
const loopFDs = 3
