package activities_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

// The routing keys of the people SyncPages tells; in testCatalog, ann and
// ben get one each, and cy, on no team, another. Nobody else has one.
const (
	annKey = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	benKey = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	cyKey  = "cccccccccccccccccccccccccccccccc"
)

// syncCatalog is testCatalog with PagerDuty routing keys for ann, ben and cy.
func syncCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	yaml := strings.NewReplacer(
		"      - email: ann@example.com\n", "      - email: ann@example.com\n      - pagerduty: "+annKey+"\n",
		"      - chat: U0002\n", "      - chat: U0002\n      - pagerduty: "+benKey+"\n  - handle: cy\n    contacts:\n      - pagerduty: "+cyKey+"\n",
	).Replace(testCatalog)
	c, err := catalog.Parse("catalog.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	for p, key := range map[string]string{"ann": annKey, "ben": benKey, "cy": cyKey} {
		if got, err := c.Address(p, catalog.PagerDuty); err != nil || got != key {
			t.Fatalf("the test catalog gives %s the routing key %q (%v), want %q", p, got, err, key)
		}
	}
	return c
}

// synced is one Sync call a pager of record heard.
type synced struct {
	action string
	m      activities.Message
}

// fakeSyncer is a pager of record: it records each Sync and answers with
// errs[To] (nil when absent).
type fakeSyncer struct {
	fakeNotifier
	errs map[string]error

	mu  sync.Mutex
	got []synced
}

func (f *fakeSyncer) Sync(_ context.Context, action string, m activities.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, synced{action, m})
	return f.errs[m.To]
}

func (f *fakeSyncer) synced() []synced {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// told lists "person to" for each call, in order.
func (f *fakeSyncer) told() []string {
	var out []string
	for _, s := range f.synced() {
		out = append(out, s.m.Person+" "+s.m.To)
	}
	return out
}

func syncActivities(t *testing.T, n map[catalog.Channel]activities.Notifier) *activities.Activities {
	t.Helper()
	a := newActivities(t, n)
	a.Catalog = activities.StaticCatalog{C: syncCatalog(t)}
	return a
}

func pd(person string) activities.PageTarget {
	return activities.PageTarget{Person: person, Channel: catalog.PagerDuty}
}

func TestSyncPages(t *testing.T) {
	t.Run("every target told, in order, with the incident's ref", func(t *testing.T) {
		for _, action := range []string{"acknowledge", "resolve"} {
			t.Run(action, func(t *testing.T) {
				p := &fakeSyncer{}
				a := syncActivities(t, map[catalog.Channel]activities.Notifier{catalog.PagerDuty: p})
				in := activities.SyncInput{IncidentID: "inc-web-0badcafe", Ref: "inc-web-0badcafe:run-2", Action: action,
					Targets: []activities.PageTarget{pd("cy"), pd("ann"), pd("ben")}}
				if _, err := activityEnv(a).ExecuteActivity(a.SyncPages, in); err != nil {
					t.Fatalf("SyncPages: %v", err)
				}
				if got, want := p.told(), []string{"cy " + cyKey, "ann " + annKey, "ben " + benKey}; !slices.Equal(got, want) {
					t.Fatalf("told %q, want %q", got, want)
				}
				for _, s := range p.synced() {
					if s.action != action || s.m.IncidentID != in.IncidentID || s.m.Ref != in.Ref || s.m.Reference() != in.Ref {
						t.Errorf("%s told %q about %s (ref %q), want %q about %s (ref %q)",
							s.m.Person, s.action, s.m.IncidentID, s.m.Ref, action, in.IncidentID, in.Ref)
					}
				}
				if n := len(p.sent()); n != 0 {
					t.Errorf("SyncPages paged %d times; it only tells pagers of record", n)
				}
			})
		}
	})

	t.Run("an input without a ref names the incident by its ID", func(t *testing.T) {
		p := &fakeSyncer{}
		a := syncActivities(t, map[catalog.Channel]activities.Notifier{catalog.PagerDuty: p})
		in := activities.SyncInput{IncidentID: "inc-web-0badcafe", Action: "resolve", Targets: []activities.PageTarget{pd("ann")}}
		if _, err := activityEnv(a).ExecuteActivity(a.SyncPages, in); err != nil {
			t.Fatalf("SyncPages: %v", err)
		}
		got := p.synced()
		if len(got) != 1 || got[0].m.Ref != in.IncidentID {
			t.Fatalf("told %+v, want one sync naming %s", got, in.IncidentID)
		}
	})

	t.Run("a target paged in a bundle is synced under the bundle's ref", func(t *testing.T) {
		p := &fakeSyncer{}
		a := syncActivities(t, map[catalog.Channel]activities.Notifier{catalog.PagerDuty: p})
		bundled := pd("ben")
		bundled.Key = "pager-ben:run-7:3"
		in := activities.SyncInput{IncidentID: "inc-web-0badcafe", Ref: "inc-web-0badcafe:run-2", Action: "acknowledge",
			Targets: []activities.PageTarget{pd("ann"), bundled}}
		if _, err := activityEnv(a).ExecuteActivity(a.SyncPages, in); err != nil {
			t.Fatalf("SyncPages: %v", err)
		}
		var refs []string
		for _, s := range p.synced() {
			refs = append(refs, s.m.Person+" "+s.m.AlertKey())
		}
		if want := []string{"ann inc-web-0badcafe:run-2", "ben pager-ben:run-7:3"}; !slices.Equal(refs, want) {
			t.Fatalf("synced %q, want %q", refs, want)
		}
	})

	t.Run("channels whose provider cannot sync are skipped", func(t *testing.T) {
		p := &fakeSyncer{}
		sms := &fakeNotifier{id: "SM0001"} // pages, but cannot hear of an acknowledgment
		a := syncActivities(t, map[catalog.Channel]activities.Notifier{catalog.PagerDuty: p, catalog.SMS: sms})
		in := activities.SyncInput{IncidentID: "inc-web-0badcafe", Action: "acknowledge", Targets: []activities.PageTarget{
			{Person: "ann", Channel: catalog.SMS},  // a provider that does not sync
			{Person: "ben", Channel: catalog.Chat}, // no provider configured at all
			pd("ann"),
			{Person: "ann", Channel: catalog.Email},
			pd("ben"),
		}}
		if _, err := activityEnv(a).ExecuteActivity(a.SyncPages, in); err != nil {
			t.Fatalf("SyncPages: %v", err)
		}
		if got, want := p.told(), []string{"ann " + annKey, "ben " + benKey}; !slices.Equal(got, want) {
			t.Fatalf("told %q, want %q", got, want)
		}
		if n := len(sms.sent()); n != 0 {
			t.Errorf("the SMS provider was sent %d messages by a sync", n)
		}
	})

	t.Run("a target with no address is skipped, the others still told", func(t *testing.T) {
		p := &fakeSyncer{}
		a := syncActivities(t, map[catalog.Channel]activities.Notifier{catalog.PagerDuty: p})
		in := activities.SyncInput{IncidentID: "inc-web-0badcafe", Action: "resolve", Targets: []activities.PageTarget{
			pd("ann"),
			pd("gone"), // left the catalog since the page
			pd("ben"),
		}}
		// ann's key is taken away too: the catalog was edited after the page.
		c := syncCatalog(t)
		ann := c.People["ann"]
		ann.Contacts = slices.DeleteFunc(slices.Clone(ann.Contacts), func(ct catalog.Contact) bool { return ct.Channel == catalog.PagerDuty })
		c.People["ann"] = ann
		a.Catalog = activities.StaticCatalog{C: c}
		if _, err := activityEnv(a).ExecuteActivity(a.SyncPages, in); err != nil {
			t.Fatalf("SyncPages: %v; a missing address is not worth failing the others for", err)
		}
		if got, want := p.told(), []string{"ben " + benKey}; !slices.Equal(got, want) {
			t.Fatalf("told %q, want %q", got, want)
		}
	})

	t.Run("one refusal does not keep the others from being told", func(t *testing.T) {
		refused := &integrations.Error{Provider: "pagerduty", Kind: integrations.Permanent, Status: 400, Message: "invalid routing key"}
		p := &fakeSyncer{errs: map[string]error{annKey: refused}}
		a := syncActivities(t, map[catalog.Channel]activities.Notifier{catalog.PagerDuty: p})
		in := activities.SyncInput{IncidentID: "inc-web-0badcafe", Action: "resolve", Targets: []activities.PageTarget{pd("ann"), pd("ben")}}
		_, err := activityEnv(a).ExecuteActivity(a.SyncPages, in)
		if err == nil || appError(t, err).Type() != activities.ErrPermanent {
			t.Fatalf("SyncPages: %v, want ann's permanent refusal", err)
		}
		if got, want := p.told(), []string{"ann " + annKey, "ben " + benKey}; !slices.Equal(got, want) {
			t.Fatalf("told %v, want %v", got, want)
		}
	})

	errTests := []struct {
		name         string
		err          error
		wantType     string
		nonRetryable bool
		retryDelay   time.Duration
		wantMsg      string
	}{
		{
			name:     "provider refuses for good",
			err:      &integrations.Error{Provider: "pagerduty", Kind: integrations.Permanent, Status: 400, Message: "invalid routing key"},
			wantType: activities.ErrPermanent, nonRetryable: true, wantMsg: "invalid routing key",
		},
		{
			name:     "provider asks to retry later",
			err:      &integrations.Error{Provider: "pagerduty", Kind: integrations.Transient, Status: 429, RetryAfter: 17 * time.Second},
			wantType: "TransientDelivery", retryDelay: 17 * time.Second, wantMsg: "http 429",
		},
		{
			name:     "provider down for now",
			err:      &integrations.Error{Provider: "pagerduty", Kind: integrations.Transient, Status: 503},
			wantType: "TransientDelivery", wantMsg: "http 503",
		},
		{
			name:    "unclassified error is retried",
			err:     errors.New("connection reset by peer"),
			wantMsg: "connection reset by peer",
		},
		{
			name:     "what the provider echoes back is redacted",
			err:      &integrations.Error{Provider: "pagerduty", Kind: integrations.Permanent, Status: 400, Message: "no service for ann@example.com"},
			wantType: activities.ErrPermanent, nonRetryable: true, wantMsg: "no service for [redacted]",
		},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakeSyncer{errs: map[string]error{annKey: tt.err}}
			a := syncActivities(t, map[catalog.Channel]activities.Notifier{catalog.PagerDuty: p})
			in := activities.SyncInput{IncidentID: "inc-web-0badcafe", Action: "resolve", Targets: []activities.PageTarget{pd("ann")}}
			_, err := activityEnv(a).ExecuteActivity(a.SyncPages, in)
			if err == nil {
				t.Fatal("SyncPages succeeded, want the provider's error")
			}
			app := appError(t, err)
			if tt.wantType != "" && app.Type() != tt.wantType {
				t.Errorf("type = %q, want %q", app.Type(), tt.wantType)
			}
			if app.NonRetryable() != tt.nonRetryable {
				t.Errorf("NonRetryable = %v, want %v", app.NonRetryable(), tt.nonRetryable)
			}
			if app.NextRetryDelay() != tt.retryDelay {
				t.Errorf("NextRetryDelay = %s, want %s", app.NextRetryDelay(), tt.retryDelay)
			}
			if !strings.Contains(app.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", app.Error(), tt.wantMsg)
			}
			if strings.Contains(app.Error(), "ann@example.com") {
				t.Errorf("error %q names the address", app.Error())
			}
		})
	}
}
