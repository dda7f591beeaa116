//go:build !(linux || darwin || freebsd)

package main

func graphStores(server) []*store { return nil }

func graphConns(server) int { return 0 }

func graphQueued(server) int64 { return 0 }

func graphHeld(server) int { return 0 }
