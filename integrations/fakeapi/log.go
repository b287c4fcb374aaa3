package fakeapi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// ExpectTimeout is how long Expect and Eventually wait.
const ExpectTimeout = 5 * time.Second

// Log is what a fake accepted, oldest first, with a way to wait for an entry.
// The zero value is empty and ready; it is safe for concurrent use.
type Log[T any] struct {
	mu      sync.Mutex
	items   []T
	changed chan struct{} // closed, and replaced, at each change
}

// Add appends x and wakes waiters.
func (l *Log[T]) Add(x T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, x)
	l.wakeLocked()
}

// Update lets edit change the entries in place, then wakes waiters. edit
// runs under the log's lock: it must not call the log.
func (l *Log[T]) Update(edit func(items []T)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	edit(l.items)
	l.wakeLocked()
}

func (l *Log[T]) wakeLocked() {
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// All returns a copy of the entries, oldest first.
func (l *Log[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// Await calls check at once and again after each change to the log, until
// check reports true or ctx is done. check runs without the log's lock.
func (l *Log[T]) Await(ctx context.Context, check func() bool) error {
	for {
		l.mu.Lock()
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		changed := l.changed
		l.mu.Unlock()
		if check() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("fake: wait: %w", ctx.Err())
		}
	}
}

// Eventually reports whether check reports true within ExpectTimeout,
// calling it as Await does. It suits state a fake derives from what it logs.
func (l *Log[T]) Eventually(check func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), ExpectTimeout)
	defer cancel()
	return l.Await(ctx, check) == nil
}

// WaitFor returns the first entry pred selects, waiting for it until ctx is done.
func (l *Log[T]) WaitFor(ctx context.Context, pred func(T) bool) (T, error) {
	var found T
	err := l.Await(ctx, func() bool {
		all := l.All()
		i := slices.IndexFunc(all, pred)
		if i >= 0 {
			found = all[i]
		}
		return i >= 0
	})
	return found, err
}

// Expect waits up to ExpectTimeout for an entry pred selects and returns it;
// when none comes it fails t with what (e.g. "twilio fake: no sms to +1…")
// and the entries received.
func (l *Log[T]) Expect(t testing.TB, what string, pred func(T) bool) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ExpectTimeout)
	defer cancel()
	x, err := l.WaitFor(ctx, pred)
	if err != nil {
		all := l.All()
		var b strings.Builder
		for _, y := range all {
			fmt.Fprintf(&b, "\n\t%+v", y)
		}
		t.Fatalf("%s within %v; received %d:%s", what, ExpectTimeout, len(all), b.String())
	}
	return x
}

// RecordingReporter is a Reporter for tests that keeps what it is told. It
// is safe for concurrent use.
type RecordingReporter struct {
	mu   sync.Mutex
	msgs []string
}

// Errorf records the message.
func (r *RecordingReporter) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// Messages returns what was reported, oldest first.
func (r *RecordingReporter) Messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// Take returns what was reported and forgets it.
func (r *RecordingReporter) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := r.msgs
	r.msgs = nil
	return msgs
}
