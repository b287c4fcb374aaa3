package teams_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/teams"
)

type env struct {
	fake  *teams.Fake
	srv   *httptest.Server
	inbox *inbox.Inbox
	rep   *fakeapi.RecordingReporter
}

func setup(t *testing.T) *env {
	t.Helper()
	e := &env{inbox: inbox.New(), rep: &fakeapi.RecordingReporter{}}
	e.fake = teams.NewFake(teams.FakeOptions{Reporter: e.rep, Inbox: e.inbox})
	mux := http.NewServeMux()
	e.fake.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() {
		if r := e.rep.Take(); len(r) != 0 {
			t.Errorf("fake reported %q", r)
		}
	})
	return e
}

func (e *env) client(t *testing.T, hook integrations.Secret, timeout time.Duration) *teams.Client {
	t.Helper()
	c, err := teams.New(teams.Config{WebhookURL: hook, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func incidentCard(incident string) teams.Message {
	return teams.Message{
		Title:    "SEV1: checkout is failing",
		Text:     "5xx above 5% since 10:02. Next update at 10:30.",
		Incident: incident,
		Links:    []teams.Link{{Title: "Acknowledge", URL: "https://sitrep.example/ack/" + incident}},
	}
}

func TestPost(t *testing.T) {
	e := setup(t)
	for _, tt := range []struct {
		name    string
		hook    integrations.Secret
		webhook string
	}{
		{"workflows webhook answers 202", e.fake.WebhookURL(e.srv.URL), "sitrep"},
		{"legacy connector answers 200 1", e.fake.ConnectorURL(e.srv.URL), "connector"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			incident := "inc-" + tt.webhook
			if err := e.client(t, tt.hook, 0).Post(context.Background(), incidentCard(incident)); err != nil {
				t.Fatal(err)
			}
			c, err := e.fake.WaitFor(context.Background(), func(c teams.PostedCard) bool { return c.Incident == incident })
			if err != nil {
				t.Fatal(err)
			}
			wantLinks := []teams.Link{{Title: "Acknowledge", URL: "https://sitrep.example/ack/" + incident}}
			if c.Webhook != tt.webhook || c.Title != "SEV1: checkout is failing" || !strings.HasPrefix(c.Text, "5xx above") || !slices.Equal(c.Links, wantLinks) {
				t.Errorf("card = %+v", c)
			}
			for _, want := range []string{`"type":"message"`, `"contentType":"application/vnd.microsoft.card.adaptive"`, `"type":"AdaptiveCard"`, `"type":"Action.OpenUrl"`} {
				if !strings.Contains(string(c.Raw), want) {
					t.Errorf("payload lacks %s: %s", want, c.Raw)
				}
			}
			msgs := e.inbox.List(inbox.Filter{Incident: incident})
			if len(msgs) != 1 || msgs[0].Channel != "chat" || msgs[0].Provider != "teams" || msgs[0].To != tt.webhook ||
				msgs[0].Subject != "SEV1: checkout is failing" || !slices.Equal(msgs[0].Links, []inbox.Link{{Label: "Acknowledge", URL: wantLinks[0].URL}}) {
				t.Errorf("inbox = %+v", msgs)
			}
		})
	}
	t.Run("text only", func(t *testing.T) {
		if err := e.client(t, e.fake.WebhookURL(e.srv.URL), 0).Post(context.Background(), teams.Message{Text: "No new information; next update at 11:00."}); err != nil {
			t.Fatal(err)
		}
		if c := e.fake.ExpectCard(t, "No new information"); c.Title != "" {
			t.Errorf("title = %q", c.Title)
		}
	})
}

func assertError(t *testing.T, err error, kind integrations.Kind, status int, code string, retryAfter time.Duration, secret string) {
	t.Helper()
	var te *integrations.Error
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *integrations.Error", err, err)
	}
	if te.Provider != "teams" || te.Kind != kind || te.Status != status || te.Code != code || te.RetryAfter != retryAfter {
		t.Errorf("err = %+v; want kind %v status %d code %q retryAfter %s", te, kind, status, code, retryAfter)
	}
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the webhook secret: %v", err)
	}
}

func TestFakeChecksTheWebhookURL(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	wrongSig := integrations.Secret(strings.Replace(e.fake.WebhookURL(e.srv.URL).Reveal(), teams.FakeSig, "guessed", 1))
	err := e.client(t, wrongSig, 0).Post(ctx, incidentCard("inc-1"))
	assertError(t, err, integrations.Permanent, 401, "DirectApiInvalidAuthorizationSignature", 0, "guessed")

	noSig := integrations.Secret(e.srv.URL + "/workflows/sitrep/triggers/manual/paths/invoke?api-version=2016-06-01")
	err = e.client(t, noSig, 0).Post(ctx, incidentCard("inc-1"))
	assertError(t, err, integrations.Permanent, 401, "DirectApiAuthorizationRequired", 0, "")

	wrongKey := integrations.Secret(strings.Replace(e.fake.ConnectorURL(e.srv.URL).Reveal(), teams.FakeSig, "guessed", 1))
	err = e.client(t, wrongKey, 0).Post(ctx, incidentCard("inc-1"))
	assertError(t, err, integrations.Permanent, 404, "", 0, "guessed")

	t.Run("payloads that are not adaptive cards", func(t *testing.T) {
		for _, body := range []string{`{`, `{"text":"legacy MessageCard"}`, `{"type":"message","attachments":[{"contentType":"text/plain","content":{}}]}`} {
			for _, hook := range []integrations.Secret{e.fake.WebhookURL(e.srv.URL), e.fake.ConnectorURL(e.srv.URL)} {
				resp, err := http.Post(hook.Reveal(), "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 400 {
					t.Errorf("%s: %d, want 400", body, resp.StatusCode)
				}
			}
		}
	})
	t.Run("too large for a connector: 200 with the failure in the text", func(t *testing.T) {
		big := `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"` +
			strings.Repeat("x", 30<<10) + `"}]}}]}`
		resp, err := http.Post(e.fake.ConnectorURL(e.srv.URL).Reveal(), "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "HTTP error 413") {
			t.Errorf("%d %s", resp.StatusCode, b)
		}
	})
	if n := len(e.fake.Received()); n != 0 {
		t.Errorf("fake accepted %d cards", n)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		fault      fakeapi.Fault
		kind       integrations.Kind
		status     int
		code       string
		retryAfter time.Duration
	}{
		{"429 with Retry-After", teams.RateLimitFault(20 * time.Second), integrations.Transient, 429, "WorkflowTriggeredTooFrequently", 20 * time.Second},
		{"connector 200 reporting 429", teams.ConnectorFailureFault(429), integrations.Transient, 429, "", 0},
		{"connector 200 reporting 413", teams.ConnectorFailureFault(413), integrations.Permanent, 413, "", 0},
		{"connector 200 reporting 502", teams.ConnectorFailureFault(502), integrations.Transient, 502, "", 0},
		{"400", fakeapi.Fault{Status: 400, Body: "Bad payload received by generic incoming webhook.", Header: map[string]string{"Content-Type": "text/plain"}}, integrations.Permanent, 400, "", 0},
		{"403", fakeapi.Fault{Status: 403, Body: `{"error":{"code":"WorkflowDisabled","message":"The workflow is disabled."}}`}, integrations.Permanent, 403, "WorkflowDisabled", 0},
		{"404", fakeapi.Fault{Status: 404, Body: `{"error":{"code":"WorkflowNotFound","message":"The workflow could not be found."}}`}, integrations.Permanent, 404, "WorkflowNotFound", 0},
		{"408", fakeapi.Fault{Status: 408, Body: ""}, integrations.Transient, 408, "", 0},
		{"500", fakeapi.Fault{Status: 500, Body: `{"error":{"code":"InternalServerError","message":"oops"}}`}, integrations.Transient, 500, "InternalServerError", 0},
		{"html 502 from a proxy", fakeapi.Fault{Status: 502, Body: "<html>bad gateway</html>", Header: map[string]string{"Content-Type": "text/html"}}, integrations.Transient, 502, "", 0},
		{"503", fakeapi.Fault{Status: 503, Body: ""}, integrations.Transient, 503, "", 0},
		{"hang until timeout", fakeapi.Fault{Hang: true}, integrations.Transient, 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t)
			hook := e.fake.WebhookURL(e.srv.URL)
			e.fake.Faults.FailNext(tt.fault)
			err := e.client(t, hook, 200*time.Millisecond).Post(context.Background(), incidentCard("inc-2"))
			assertError(t, err, tt.kind, tt.status, tt.code, tt.retryAfter, teams.FakeSig)
			if n := len(e.fake.Received()); n != 0 {
				t.Errorf("fake accepted %d cards behind a fault", n)
			}
		})
	}
	t.Run("network error hides the URL", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		hook := integrations.Secret(srv.URL + "/workflows/x/triggers/manual/paths/invoke?sig=topsecret")
		c, err := teams.New(teams.Config{WebhookURL: hook})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Post(context.Background(), incidentCard("inc-3"))
		assertError(t, err, integrations.Transient, 0, "", 0, "topsecret")
	})
	t.Run("too large is permanent and not sent", func(t *testing.T) {
		e := setup(t)
		m := incidentCard("inc-4")
		m.Text = strings.Repeat("x", 29<<10)
		err := e.client(t, e.fake.WebhookURL(e.srv.URL), 0).Post(context.Background(), m)
		assertError(t, err, integrations.Permanent, 0, "invalid_input", 0, "")
	})
	t.Run("empty message is permanent", func(t *testing.T) {
		e := setup(t)
		err := e.client(t, e.fake.WebhookURL(e.srv.URL), 0).Post(context.Background(), teams.Message{Links: []teams.Link{{Title: "a", URL: "https://x"}}})
		assertError(t, err, integrations.Permanent, 0, "invalid_input", 0, "")
	})
}

func TestFakeReportsUnexpectedRequests(t *testing.T) {
	e := setup(t)
	resp, err := http.Get(e.fake.WebhookURL(e.srv.URL).Reveal())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := e.rep.Take(); resp.StatusCode != 404 || len(got) != 1 || !strings.Contains(got[0], "GET /workflows/sitrep/triggers/manual/paths/invoke") {
		t.Errorf("status %d, reports %q", resp.StatusCode, got)
	}
}

func TestConfigFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hook")
	if err := os.WriteFile(file, []byte("https://example.webhook.office.com/webhookb2/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr bool
		want    integrations.Secret
	}{
		{"not set: disabled", nil, false, false, ""},
		{"set", map[string]string{"TEAMS_WEBHOOK_URL": "https://prod.logic.azure.com/workflows/x"}, true, false, "https://prod.logic.azure.com/workflows/x"},
		{"file", map[string]string{"TEAMS_WEBHOOK_URL_FILE": file}, true, false, "https://example.webhook.office.com/webhookb2/x"},
		{"both set", map[string]string{"TEAMS_WEBHOOK_URL": "https://x", "TEAMS_WEBHOOK_URL_FILE": file}, true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := teams.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if ok != tt.ok || (err != nil) != tt.wantErr || cfg.WebhookURL != tt.want {
				t.Errorf("ok %v err %v url %q", ok, err, cfg.WebhookURL.Reveal())
			}
		})
	}
}

func TestNewValidatesWithoutShowingTheURL(t *testing.T) {
	for _, hook := range []integrations.Secret{"", "prod.logic.azure.com/workflows/secretpart", "ftp://x/secretpart"} {
		_, err := teams.New(teams.Config{WebhookURL: hook})
		if err == nil || strings.Contains(err.Error(), "secretpart") {
			t.Errorf("New(%q) = %v", hook.Reveal(), err)
		}
	}
	if _, err := teams.New(teams.Config{WebhookURL: "https://x", Timeout: -1}); err == nil {
		t.Error("negative timeout accepted")
	}
}
