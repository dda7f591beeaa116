//go:build gc && !race && !loopyring_fenced

package ring

// RegisterMembarrier asks the kernel for the membarrier light stores need, as
// the first ring does.
var RegisterMembarrier = registerMembarrier
