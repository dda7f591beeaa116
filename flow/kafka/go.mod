module github.com/loopyring/loopyring/flow/kafka

go 1.27

toolchain go1.27.3

require (
	github.com/loopyring/loopyring v0.0.0-00010101000000-000000000000
	github.com/twmb/franz-go v1.22.3
	github.com/twmb/franz-go/pkg/kadm v1.20.0
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c
	github.com/twmb/franz-go/pkg/kmsg v1.15.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

// Development: the library from this checkout. A user of the connector outside it drops this
// line and requires a released version instead.
replace github.com/loopyring/loopyring => ../..
