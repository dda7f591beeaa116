module github.com/loopyring/loopyring/examples

go 1.27

toolchain go1.27.3

require (
	github.com/google/go-cmp v0.7.0
	github.com/loopyring/loopyring v0.0.0-00010101000000-000000000000
	github.com/loopyring/loopyring/flow/kafka v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.23.0
	github.com/twmb/franz-go v1.22.3
	github.com/twmb/franz-go/pkg/kadm v1.20.0
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.50.0
	pgregory.net/rapid v1.3.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.15.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
)

// Development: the library and its Kafka connector from this checkout. A user of the
// examples outside it drops these lines and requires released versions instead.
replace (
	github.com/loopyring/loopyring => ../
	github.com/loopyring/loopyring/flow/kafka => ../flow/kafka
)
