// Command acomm-client is the Go load client of bench/go-provider.ts: the original acomm
// library (github.com/mistifyio/acomm, as provider's server_test.go uses it) sending task
// requests to one provider task socket and taking the responses on a tracker's response
// socket. It makes -warm requests (not measured), then -n requests from -c goroutines, and
// prints one JSON line: {"requests","errors","seconds","rps","p50","p99","cpu_ms"} (latencies
// in ms; cpu_ms is this process's user+system CPU time over the measured requests, from
// getrusage). With -sync it prints "warmed" after the warm-up and waits for a line on stdin
// before the measured requests, so the benchmark can sample the provider's CPU time around
// exactly those.
//
// Built by bench/go-provider.ts in a copy of ../shared/upstream/mistify-gopath:
//
//	GO111MODULE=off GOPATH=<copy> go build switchyard.bench/acomm-client
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	log "github.com/Sirupsen/logrus"
	"github.com/mistifyio/acomm"
)

type result struct {
	Requests int     `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50"`
	P99      float64 `json:"p99"`
	CPUms    float64 `json:"cpu_ms"`
	// How the scheduler treated this process over the measured requests: the time its
	// threads waited for a CPU (ms), and its context switches.
	RunqMs      float64 `json:"runq_ms"`
	Voluntary   int64   `json:"voluntary"`
	Involuntary int64   `json:"involuntary"`
	Error       string  `json:"error,omitempty"`
}

// CPUInfoArgs are the arguments of provider-simple's CPUInfo task.
type CPUInfoArgs struct {
	GuestID string `json:"guest_id"`
}

func main() {
	socket := flag.String("socket", "", "the provider's task socket, e.g. /tmp/mistify/CPUInfo/50-provider-simple.sock")
	task := flag.String("task", "CPUInfo", "task name")
	concurrency := flag.Int("c", 1, "requests in flight")
	count := flag.Int("n", 1000, "measured requests")
	warm := flag.Int("warm", 200, "requests made first, not measured")
	hookDir := flag.String("hook-dir", os.TempDir(), "folder of this client's response socket")
	timeout := flag.Duration("timeout", 30*time.Second, "time limit of one request")
	syncStart := flag.Bool("sync", false, "after the warm-up, print \"warmed\" and wait for a line on stdin")
	flag.Parse()
	log.SetLevel(log.FatalLevel)

	fail := func(err error) {
		out, _ := json.Marshal(result{Error: err.Error()})
		fmt.Println(string(out))
		os.Exit(1)
	}
	target, err := url.ParseRequestURI("unix://" + *socket)
	if err != nil {
		fail(err)
	}
	tracker, err := acomm.NewTracker(filepath.Join(*hookDir, fmt.Sprintf("acomm-client-%d.sock", os.Getpid())), nil, *timeout)
	if err != nil {
		fail(err)
	}
	if err := tracker.Start(); err != nil {
		fail(err)
	}
	defer tracker.Stop()

	// One request: tracked before it is sent, answered on the tracker's socket.
	call := func() error {
		done := make(chan *acomm.Response, 1)
		handler := func(_ *acomm.Request, resp *acomm.Response) { done <- resp }
		req, err := acomm.NewRequest(*task, tracker.URL().String(), &CPUInfoArgs{GuestID: "abc"}, handler, handler)
		if err != nil {
			return err
		}
		if err := tracker.TrackRequest(req, *timeout); err != nil {
			return err
		}
		if err := acomm.Send(target, req); err != nil {
			tracker.RemoveRequest(req)
			return err
		}
		resp := <-done
		if resp.Error != nil {
			return resp.Error
		}
		if resp.Result == nil {
			return errors.New("no result")
		}
		return nil
	}

	var errCount int64
	run := func(n int, latencies []time.Duration) {
		var next int64 = -1
		var wg sync.WaitGroup
		for w := 0; w < *concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := atomic.AddInt64(&next, 1)
					if i >= int64(n) {
						return
					}
					started := time.Now()
					if err := call(); err != nil {
						atomic.AddInt64(&errCount, 1)
					}
					if latencies != nil {
						latencies[i] = time.Since(started)
					}
				}
			}()
		}
		wg.Wait()
	}

	run(*warm, nil)
	errCount = 0
	if *syncStart {
		fmt.Println("warmed")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	}
	latencies := make([]time.Duration, *count)
	schedBefore := schedSample()
	cpuBefore := cpuMs()
	started := time.Now()
	run(*count, latencies)
	seconds := time.Since(started).Seconds()
	cpu := cpuMs() - cpuBefore
	sched := schedSample()
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	at := func(q float64) float64 {
		i := int(float64(len(latencies)) * q)
		if i >= len(latencies) {
			i = len(latencies) - 1
		}
		return float64(latencies[i]) / float64(time.Millisecond)
	}
	out, _ := json.Marshal(result{Requests: *count, Errors: errCount, Seconds: seconds, RPS: float64(*count) / seconds, P50: at(0.5), P99: at(0.99), CPUms: cpu,
		RunqMs: sched.runqMs - schedBefore.runqMs, Voluntary: sched.voluntary - schedBefore.voluntary, Involuntary: sched.involuntary - schedBefore.involuntary})
	fmt.Println(string(out))
}

// cpuMs is this process's user+system CPU time so far (every thread), in milliseconds.
func cpuMs() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	ms := func(t syscall.Timeval) float64 { return float64(t.Sec)*1000 + float64(t.Usec)/1000 }
	return ms(ru.Utime) + ms(ru.Stime)
}

type sched struct {
	runqMs                 float64
	voluntary, involuntary int64
}

// schedSample: the time this process's threads spent runnable but waiting for a CPU, from
// /proc/self/task/*/schedstat (0 where it is missing), and its context switches (getrusage).
func schedSample() sched {
	var s sched
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			ns, _ := strconv.ParseFloat(f[1], 64)
			s.runqMs += ns / 1e6
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.voluntary, s.involuntary = ru.Nvcsw, ru.Nivcsw
	}
	return s
}
