module github.com/loopyring/loopyring/examples

go 1.27

toolchain go1.27.3

require (
	github.com/google/go-cmp v0.7.0
	github.com/loopyring/loopyring v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.23.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.50.0
	pgregory.net/rapid v1.3.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
)

// Development: the library from this checkout. A user of the examples outside it drops this
// line and requires a released version instead.
replace github.com/loopyring/loopyring => ../
