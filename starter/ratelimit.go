package starter

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is N requests per Per, with bursts of up to N: a token bucket that
// holds N tokens and refills N every Per. The zero Rate is no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// RateLimit limits a group of routes per client address and overall.
type RateLimit struct {
	PerAddress Rate
	Overall    Rate
}

func (r Rate) String() string {
	if r.off() {
		return "unlimited"
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

func (r Rate) off() bool { return r.N <= 0 || r.Per <= 0 }

// ParseRate reads "N/DURATION", e.g. "5/1m" or "100/1s"; "" and "0" are no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count < 0 {
		return Rate{}, fmt.Errorf("%q is not N/DURATION like 5/1m", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("%q is not N/DURATION like 5/1m", s)
	}
	return Rate{N: count, Per: d}, nil
}

// limiter is the token buckets of one RateLimit: one per client address and
// one overall.
type limiter struct {
	limit RateLimit
	mu    sync.Mutex
	addrs map[string]*bucket
	all   bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxTrackedAddresses bounds the per-address buckets kept: past it, full
// buckets (addresses quiet long enough to have refilled) are forgotten.
const maxTrackedAddresses = 10000

func newLimiter(l RateLimit) *limiter {
	return &limiter{limit: l, addrs: map[string]*bucket{}}
}

// allow takes a token for addr, and one overall. When either bucket is
// empty it takes none and says how long until one is there.
func (l *limiter) allow(addr string, now time.Time) (ok bool, retry time.Duration, scope string) {
	if l == nil {
		return true, 0, ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if !l.limit.PerAddress.off() {
		b = l.addrs[addr]
		if b == nil {
			if len(l.addrs) >= maxTrackedAddresses {
				l.prune(now)
			}
			b = &bucket{tokens: float64(l.limit.PerAddress.N), last: now}
			l.addrs[addr] = b
		}
		if wait := b.refill(l.limit.PerAddress, now); wait > 0 {
			return false, wait, "address"
		}
	}
	if !l.limit.Overall.off() {
		if l.all.last.IsZero() {
			l.all = bucket{tokens: float64(l.limit.Overall.N), last: now}
		}
		if wait := l.all.refill(l.limit.Overall, now); wait > 0 {
			return false, wait, "overall"
		}
		l.all.tokens--
	}
	if b != nil {
		b.tokens--
	}
	return true, 0, ""
}

// refill adds what r has earned since the last call and returns how long
// until a whole token is there, or 0 when one is.
func (b *bucket) refill(r Rate, now time.Time) time.Duration {
	perToken := r.Per.Seconds() / float64(r.N)
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(float64(r.N), b.tokens+el/perToken)
		b.last = now
	}
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * perToken * float64(time.Second))
}

func (l *limiter) prune(now time.Time) {
	for a, b := range l.addrs {
		b.refill(l.limit.PerAddress, now)
		if b.tokens >= float64(l.limit.PerAddress.N) {
			delete(l.addrs, a)
		}
	}
	if len(l.addrs) >= maxTrackedAddresses {
		clear(l.addrs) // a flood of addresses: start over rather than grow
	}
}

// retryAfterSeconds is a Retry-After value for wait: whole seconds, at least 1.
func retryAfterSeconds(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// clientAddress is the address a request came from: the connection's peer,
// or, behind a proxy named by IntakeConfig.ClientAddressHeader, the last
// address that header lists (the one the proxy itself appended; earlier ones
// are the client's to forge).
func (in *Intake) clientAddress(r *http.Request) string {
	if h := in.cfg.ClientAddressHeader; h != "" {
		if vs := r.Header.Values(h); len(vs) > 0 {
			parts := strings.Split(vs[len(vs)-1], ",")
			if a := strings.TrimSpace(parts[len(parts)-1]); a != "" {
				return a
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
