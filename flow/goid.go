package flow

import (
	"bytes"
	"runtime"
	"strconv"
)

// goid returns the calling goroutine's id, parsed from the header of its stack trace
// ("goroutine 42 [running]:"). It exists for one rare check: Stop and Wait called from a
// stage's own function would wait for that stage to end and never return, so they look
// for the caller among the stages first. Keeping a stage's identity in a context argument
// to every user function was rejected: it would put an extra argument on every hot call.
func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return -1
	}
	return id
}
