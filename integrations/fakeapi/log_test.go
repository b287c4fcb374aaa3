package fakeapi

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestLogWaitFor(t *testing.T) {
	var l Log[int]
	go func() {
		for i := range 5 {
			l.Add(i)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if x, err := l.WaitFor(ctx, func(x int) bool { return x == 4 }); err != nil || x != 4 {
		t.Fatalf("WaitFor = %d, %v", x, err)
	}
	if got := l.All(); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Errorf("All = %v", got)
	}
	go l.Update(func(xs []int) { xs[0] = 10 })
	if x := l.Expect(t, "no 10", func(x int) bool { return x == 10 }); x != 10 {
		t.Errorf("Expect = %d", x)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if _, err := l.WaitFor(short, func(x int) bool { return x < 0 }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor past the deadline: %v", err)
	}
}

func TestRecordingReporter(t *testing.T) {
	var r RecordingReporter
	r.Errorf("a %d", 1)
	r.Errorf("b")
	if got := r.Messages(); !slices.Equal(got, []string{"a 1", "b"}) {
		t.Errorf("Messages = %q", got)
	}
	if got := r.Take(); len(got) != 2 || len(r.Messages()) != 0 {
		t.Errorf("Take = %q, then %q", got, r.Messages())
	}
}

func TestMailView(t *testing.T) {
	text, links := MailView("", `<p>Ack: <a href="x">https://s.example/ack/1</a>.</p> https://s.example/ack/1`)
	if text != "Ack: https://s.example/ack/1. https://s.example/ack/1" || len(links) != 1 || links[0].URL != "https://s.example/ack/1" {
		t.Errorf("MailView = %q, %+v", text, links)
	}
}
