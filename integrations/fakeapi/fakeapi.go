// Package fakeapi holds what every provider fake shares: fault injection and
// the report of requests a fake did not expect. Each fake in
// integrations/<vendor> builds on it to speak its vendor's real HTTP API.
package fakeapi

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Fault is one injected failure: the response a fake sends instead of the real one.
type Fault struct {
	Status  int               // HTTP status to answer with
	Body    string            // the vendor's own error body
	Header  map[string]string // e.g. Retry-After
	Latency time.Duration     // wait this long before answering (or before the real answer when Status is 0)
	Hang    bool              // never answer until the client gives up
}

// ProxyErrorFault is an HTML error page with status, as a proxy in front of
// a vendor sends: the vendor's SDK cannot decode it.
func ProxyErrorFault(status int) Fault {
	return Fault{
		Status: status,
		Header: map[string]string{"Content-Type": "text/html"},
		Body:   fmt.Sprintf("<html><body><h1>%d %s</h1></body></html>", status, http.StatusText(status)),
	}
}

// Faults decides, request by request, whether a fake fails. Queued faults
// come first; then each request fails with the rate's probability. The zero
// value injects nothing. It is safe for concurrent use.
type Faults struct {
	mu     sync.Mutex
	queue  []Fault
	rate   float64
	choose []Fault
	rnd    *rand.Rand
}

// FailNext makes the next len(fs) requests fail, in order.
func (f *Faults) FailNext(fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, fs...)
}

// SetRate makes each request fail with probability rate, with one of fs
// picked at random. seed makes the run repeatable.
func (f *Faults) SetRate(rate float64, seed uint64, fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rate, f.choose = rate, fs
	f.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Next returns the fault for the next request, if any.
func (f *Faults) Next() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) > 0 {
		x := f.queue[0]
		f.queue = f.queue[1:]
		return x, true
	}
	if f.rate > 0 && len(f.choose) > 0 && f.rnd.Float64() < f.rate {
		return f.choose[f.rnd.IntN(len(f.choose))], true
	}
	return Fault{}, false
}

// Wrap answers with the next fault, if any, before h sees the request.
func (f *Faults) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, ok := f.Next()
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		if x.Hang {
			// Read the body first: the server only notices the client
			// hanging up once it has.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		}
		if x.Latency > 0 {
			select {
			case <-time.After(x.Latency):
			case <-r.Context().Done():
				return
			}
		}
		if x.Status == 0 {
			h.ServeHTTP(w, r)
			return
		}
		for k, v := range x.Header {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(x.Status)
		_, _ = w.Write([]byte(x.Body))
	})
}

// Reporter is told of requests a fake did not expect; *testing.T fits.
type Reporter interface {
	Errorf(format string, args ...any)
}

// Unexpected answers 404 and reports the request to rep, when there is one.
func Unexpected(rep Reporter, vendor string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rep != nil {
			rep.Errorf("%s fake: unexpected request %s %s", vendor, r.Method, r.URL.Path)
		}
		http.Error(w, vendor+" fake: no such endpoint", http.StatusNotFound)
	})
}
