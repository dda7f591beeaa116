//go:build !linux || !amd64 || !gc || race || loopyring_fenced

package ring

import "sync/atomic"

// Here every publishing store is a sequentially consistent atomic store; see
// fence_linux_amd64.go for where light stores are used and why.
func lightAvailable() bool { return false }

func heavyFence() {}

func storeLight(p *atomic.Int64, v int64) { p.Store(v) }

func refuseMembarrier() {}

func lightRevoked() bool { return false }
