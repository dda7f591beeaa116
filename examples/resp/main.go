// Command resp is a Redis-protocol key-value server built on loopyring's four-level
// topology: listener stages accept and read sockets in their event loops, parser stages turn
// bytes into commands, worker stages each own a key-partitioned part of the store (so it
// needs no lock), and replier stages put replies back in request order and write them.
//
// With -mode=goroutines it runs the same command code as a goroutine-per-connection server
// on the net package instead, the baseline of the benchmark script.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/loopyring/loopyring/affinity"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	applyTimerSlack(cfg, affinity.SetTimerSlack, log.Printf) // before the server starts its threads
	srv, err := start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("resp: %s mode listening on %s", cfg.mode, srv.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	log.Printf("resp: stopping: draining in-flight requests")
	if err := srv.Stop(); err != nil {
		log.Fatal(err)
	}
	log.Printf("resp: stopped")
}

// applyTimerSlack sets the threads' timer slack that -timer-slack asks for, with set. A
// failure is logged and the server runs on with the slack it had; off Linux, where there
// is none to set, only a slack asked for on the command line is worth a line.
func applyTimerSlack(cfg config, set func(time.Duration) error, logf func(string, ...any)) {
	if cfg.timerSlack == 0 {
		return
	}
	err := set(cfg.timerSlack)
	if err == nil || (errors.Is(err, errors.ErrUnsupported) && !cfg.timerSlackSet) {
		return
	}
	logf("resp: -timer-slack %v not applied: %v", cfg.timerSlack, err)
}

func parseFlags(args []string) (config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("resp", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", cfg.addr, "listen address")
	fs.StringVar(&cfg.mode, "mode", cfg.mode, "graph (loopyring stages) or goroutines (a goroutine per connection)")
	fs.IntVar(&cfg.listeners, "listeners", cfg.listeners, "listener stages (level 0)")
	fs.IntVar(&cfg.parsers, "parsers", cfg.parsers, "parser stages (level 1; the default is 2 with at least 9 CPUs, else 1)")
	fs.IntVar(&cfg.workers, "workers", cfg.workers, "worker stages, each owning a shard of the store (level 2; 4 with at least 9 CPUs, else 1)")
	fs.IntVar(&cfg.repliers, "repliers", cfg.repliers, "replier stages (level 3; 2 with at least 9 CPUs, else 1)")
	fs.IntVar(&cfg.capacity, "capacity", cfg.capacity, "ring capacity per stage (a power of two)")
	fs.TextVar(&cfg.placement, "cpu", affinity.None, "CPU placement: none, compact, spread or explicit")
	cpus := fs.String("cpus", "", "comma-separated CPUs for -cpu=explicit")
	fs.IntVar(&cfg.lim.maxBulk, "max-bulk", cfg.lim.maxBulk, "largest argument in bytes")
	fs.IntVar(&cfg.lim.maxRequest, "max-request", cfg.lim.maxRequest, "largest request in bytes")
	fs.DurationVar(&cfg.writeTimeout, "write-timeout", cfg.writeTimeout, "how long a client may leave its replies unread, taking none of them, before it is dropped (0: no limit)")
	fs.Var(&cfg.outLimit, "client-output-buffer-limit", "unread output after which a client is dropped: \"hard soft seconds\" (0 for none), as Redis's")
	fs.IntVar(&cfg.maxClients, "maxclients", cfg.maxClients, "most connections at once (0: no limit)")
	fs.DurationVar(&cfg.timerSlack, "timer-slack", cfg.timerSlack, "how late the kernel may end the threads' timed sleeps, the Go scheduler's short back-offs among them (0: leave the slack the process inherited; Linux only)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	fs.Visit(func(f *flag.Flag) { cfg.timerSlackSet = cfg.timerSlackSet || f.Name == "timer-slack" })
	if *cpus != "" {
		for _, f := range strings.Split(*cpus, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return cfg, fmt.Errorf("resp: -cpus: %w", err)
			}
			cfg.cpus = append(cfg.cpus, n)
		}
	}
	if cfg.timerSlack < 0 {
		return cfg, fmt.Errorf("resp: -timer-slack must not be negative, not %v", cfg.timerSlack)
	}
	if cfg.mode != "graph" && cfg.mode != "goroutines" {
		return cfg, fmt.Errorf("resp: -mode must be graph or goroutines, not %q", cfg.mode)
	}
	return cfg, nil
}
