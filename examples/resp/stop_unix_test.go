//go:build linux || darwin || freebsd

package main

func graphStores(s server) []*store { return s.(*graphServer).stores }
