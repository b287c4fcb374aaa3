package twilio

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// Credentials and number the fake uses when FakeOptions leaves them empty.
const (
	FakeAccountSID = "AC00000000000000000000000000000000"
	FakeAuthToken  = "sandboxtoken"
	FakeNumber     = "+15005550006" // Twilio's test number that accepts everything
)

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter   fakeapi.Reporter    // told of unexpected requests; nil in the sandbox
	Inbox      *inbox.Inbox        // where deliveries show up; may be nil
	AccountSID string              // the account accepted; default FakeAccountSID
	AuthToken  integrations.Secret // accepted, and signs inbound webhooks; default FakeAuthToken
	Number     string              // the Twilio number people reply to when no page came to them; default FakeNumber
	// IncidentOf finds the sitrep incident ID in an SMS body or a call's spoken
	// text, for the inbox; nil records no incident.
	IncidentOf func(text string) string
	// HTTPClient sends the inbound webhooks; nil for http.DefaultClient.
	HTTPClient *http.Client
}

// Delivery is one message or call the fake accepted.
type Delivery struct {
	Kind  string // "sms" or "voice"
	SID   string // SM… or CA…
	To    string
	From  string
	Body  string     // SMS text
	TwiML string     // the call's Twiml parameter
	Say   []string   // what the call says, in order
	Links []string   // links in the SMS body, or the call's Gather actions
	Form  url.Values // every field as posted
	At    time.Time
}

// Fake speaks Twilio's REST API for Messages and Calls and records what it accepted.
type Fake struct {
	Faults fakeapi.Faults // injected failures; see ErrorFault and RateLimitFault

	opts FakeOptions

	got fakeapi.Log[Delivery]

	mu       sync.Mutex
	seq      int
	optedOut map[string]bool // numbers that texted STOP
}

// NewFake returns a Fake with opts' defaults filled in.
func NewFake(opts FakeOptions) *Fake {
	if opts.AccountSID == "" {
		opts.AccountSID = FakeAccountSID
	}
	if opts.AuthToken == "" {
		opts.AuthToken = FakeAuthToken
	}
	if opts.Number == "" {
		opts.Number = FakeNumber
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	return &Fake{opts: opts, optedOut: map[string]bool{}}
}

// Register mounts Twilio's paths on mux.
func (f *Fake) Register(mux *http.ServeMux) {
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, f.Faults.Wrap(f.authenticated(h))) }
	handle("POST /2010-04-01/Accounts/{AccountSid}/Messages.json", f.createMessage)
	handle("POST /2010-04-01/Accounts/{AccountSid}/Calls.json", f.createCall)
	handle("GET /2010-04-01/Accounts/{AccountSid}/Messages/{file}", f.fetch("sms"))
	handle("GET /2010-04-01/Accounts/{AccountSid}/Calls/{file}", f.fetch("voice"))
	mux.Handle("/2010-04-01/", fakeapi.Unexpected(f.opts.Reporter, "twilio"))
}

// Received returns what the fake accepted, oldest first.
func (f *Fake) Received() []Delivery { return f.got.All() }

// WaitFor returns the first accepted delivery that pred selects, waiting for
// it until ctx is done.
func (f *Fake) WaitFor(ctx context.Context, pred func(Delivery) bool) (Delivery, error) {
	return f.got.WaitFor(ctx, pred)
}

// ExpectSMS waits up to 5 seconds for an SMS to to whose body contains
// substring, and fails t if none comes.
func (f *Fake) ExpectSMS(t testing.TB, to, substring string) Delivery {
	t.Helper()
	return f.expect(t, "sms", to, substring)
}

// ExpectCall waits up to 5 seconds for a call to to whose spoken text
// contains substring, and fails t if none comes.
func (f *Fake) ExpectCall(t testing.TB, to, substring string) Delivery {
	t.Helper()
	return f.expect(t, "voice", to, substring)
}

func (f *Fake) expect(t testing.TB, kind, to, substring string) Delivery {
	t.Helper()
	return f.got.Expect(t, fmt.Sprintf("twilio fake: no %s to %s containing %q", kind, to, substring), func(d Delivery) bool {
		return d.Kind == kind && d.To == to && strings.Contains(d.Body+strings.Join(d.Say, " "), substring)
	})
}

// ErrorFault is Twilio's answer for error code, e.g. 21211 (invalid number),
// 21610 (unsubscribed), 20003 (authentication), 20429 (too many requests),
// 20500 or 20503 (Twilio's own failure).
func ErrorFault(code int) fakeapi.Fault {
	status := http.StatusBadRequest
	switch code {
	case 20003:
		status = http.StatusUnauthorized
	case 20404:
		status = http.StatusNotFound
	case 20429:
		status = http.StatusTooManyRequests
	case 20500:
		status = http.StatusInternalServerError
	case 20503:
		status = http.StatusServiceUnavailable
	}
	return fakeapi.Fault{Status: status, Body: errorBody(status, code, errorMessages[code])}
}

// RateLimitFault is Twilio's 429 (code 20429) with a Retry-After header.
func RateLimitFault(retryAfter time.Duration) fakeapi.Fault {
	x := ErrorFault(20429)
	x.Header = map[string]string{"Retry-After": strconv.Itoa(int(retryAfter.Round(time.Second) / time.Second))}
	return x
}

// ProxyErrorFault is an HTML error page with status, as a proxy in front of
// Twilio sends: twilio-go cannot decode it.
func ProxyErrorFault(status int) fakeapi.Fault { return fakeapi.ProxyErrorFault(status) }

var errorMessages = map[int]string{
	12100: "Document parse failure",
	20003: "Authenticate",
	20404: "The requested resource was not found",
	20429: "Too Many Requests",
	20500: "An internal server error has occurred",
	20503: "Service unavailable",
	21201: "No 'To' number is specified",
	21205: "Url parameter is required",
	21211: "The 'To' number is not a valid phone number.",
	21213: "No 'From' number is specified",
	21217: "Phone number does not appear to be valid",
	21602: "Message body is required.",
	21603: "A 'From' phone number is required.",
	21604: "A 'To' phone number is required.",
	21610: "Attempt to send to unsubscribed recipient",
	21617: "The concatenated message body exceeds the 1600 character limit.",
}

// errorBody is Twilio's legacy error JSON; twilio-go reads the status from it.
func errorBody(status, code int, message string) string {
	b, _ := json.Marshal(map[string]any{
		"code": code, "message": message, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	})
	return string(b)
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	if message == "" {
		message = errorMessages[code]
	}
	writeJSON(w, status, json.RawMessage(errorBody(status, code, message)))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authenticated checks HTTP Basic AccountSid:AuthToken and the account in the path, as Twilio does.
func (f *Fake) authenticated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != f.opts.AccountSID || subtle.ConstantTimeCompare([]byte(pass), []byte(f.opts.AuthToken.Reveal())) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeError(w, http.StatusUnauthorized, 20003, "")
			return
		}
		if r.PathValue("AccountSid") != f.opts.AccountSID {
			writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
			return
		}
		h(w, r)
	}
}

var phone = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func (f *Fake) createMessage(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 21602, "invalid form: "+err.Error())
		return
	}
	to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21604, "")
		return
	case from == "" && r.PostForm.Get("MessagingServiceSid") == "":
		writeError(w, http.StatusBadRequest, 21603, "")
		return
	case body == "" && r.PostForm.Get("MediaUrl") == "":
		writeError(w, http.StatusBadRequest, 21602, "")
		return
	case !phone.MatchString(to):
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to))
		return
	case len([]rune(body)) > 1600:
		writeError(w, http.StatusBadRequest, 21617, "")
		return
	}
	d := Delivery{Kind: "sms", To: to, From: from, Body: body, Links: findLinks(body), Form: r.PostForm}
	if !f.record(&d, func() bool { return !f.optedOut[to] }) {
		writeError(w, http.StatusBadRequest, 21610, "")
		return
	}
	f.opts.Inbox.Add(inbox.Message{
		Channel: "sms", Provider: "twilio", To: to, From: from, Text: body,
		Incident: f.incidentOf(body), ProviderID: d.SID, Links: inboxLinks(d.Links, ""),
	})
	writeJSON(w, http.StatusCreated, f.resource(d))
}

func (f *Fake) createCall(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 21205, "invalid form: "+err.Error())
		return
	}
	to, from, tw := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Twiml")
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21201, "")
		return
	case from == "":
		writeError(w, http.StatusBadRequest, 21213, "")
		return
	case tw == "" && r.PostForm.Get("Url") == "" && r.PostForm.Get("ApplicationSid") == "":
		writeError(w, http.StatusBadRequest, 21205, "")
		return
	case !phone.MatchString(to):
		writeError(w, http.StatusBadRequest, 21217, "")
		return
	}
	d := Delivery{Kind: "voice", To: to, From: from, TwiML: tw, Form: r.PostForm}
	if tw != "" {
		var err error
		if d.Say, d.Links, err = readTwiML(tw); err != nil {
			// Twilio fails such a call only once it is answered (error 12100);
			// the fake refuses it at once so that tests see the bug.
			writeError(w, http.StatusBadRequest, 12100, "Document parse failure: "+err.Error())
			return
		}
	}
	f.record(&d, nil)
	text := strings.Join(d.Say, " ")
	f.opts.Inbox.Add(inbox.Message{
		Channel: "voice", Provider: "twilio", To: to, From: from, Text: text,
		Incident: f.incidentOf(text + " " + strings.Join(d.Links, " ")), ProviderID: d.SID, Links: inboxLinks(d.Links, "Keypad (Gather action)"),
	})
	writeJSON(w, http.StatusCreated, f.resource(d))
}

func (f *Fake) fetch(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
		if ok {
			for _, d := range f.Received() {
				if d.Kind == kind && d.SID == sid {
					writeJSON(w, http.StatusOK, f.resource(d))
					return
				}
			}
		}
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	}
}

// record gives d its SID and time and keeps it, when accept (run under the lock) allows.
func (f *Fake) record(d *Delivery, accept func() bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if accept != nil && !accept() {
		return false
	}
	f.seq++
	prefix := "SM"
	if d.Kind == "voice" {
		prefix = "CA"
	}
	d.SID, d.At = fmt.Sprintf("%s%032x", prefix, f.seq), time.Now().UTC()
	f.got.Add(*d)
	return true
}

// resource is the JSON Twilio answers for a message or call.
func (f *Fake) resource(d Delivery) map[string]any {
	date := d.At.Format(time.RFC1123Z)
	acct := "/2010-04-01/Accounts/" + f.opts.AccountSID
	m := map[string]any{
		"sid": d.SID, "account_sid": f.opts.AccountSID, "to": d.To, "from": d.From,
		"status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
		"date_created": date, "date_updated": date, "price": nil, "price_unit": "USD",
	}
	if d.Kind == "sms" {
		m["body"] = d.Body
		m["num_segments"] = strconv.Itoa(max(1, (len([]rune(d.Body))+152)/153))
		m["num_media"] = "0"
		m["messaging_service_sid"] = nil
		m["date_sent"] = nil
		m["error_code"] = nil
		m["error_message"] = nil
		m["uri"] = acct + "/Messages/" + d.SID + ".json"
		m["subresource_uris"] = map[string]string{"media": acct + "/Messages/" + d.SID + "/Media.json"}
		return m
	}
	m["to_formatted"], m["from_formatted"] = d.To, d.From
	m["parent_call_sid"], m["start_time"], m["end_time"], m["duration"] = nil, nil, nil, nil
	m["answered_by"], m["caller_name"], m["forwarded_from"], m["group_sid"], m["trunk_sid"] = nil, nil, nil, nil, nil
	m["queue_time"] = "0"
	m["uri"] = acct + "/Calls/" + d.SID + ".json"
	m["subresource_uris"] = map[string]string{"notifications": acct + "/Calls/" + d.SID + "/Notifications.json"}
	return m
}

func (f *Fake) incidentOf(text string) string {
	if f.opts.IncidentOf == nil {
		return ""
	}
	return f.opts.IncidentOf(text)
}

// twimlNode is any TwiML element.
type twimlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr  `xml:",any,attr"`
	Text    string      `xml:",chardata"`
	Nodes   []twimlNode `xml:",any"`
}

// readTwiML returns the distinct Say texts and Gather actions of a TwiML document, in order.
func readTwiML(doc string) (say, actions []string, err error) {
	var root twimlNode
	if err := xml.Unmarshal([]byte(doc), &root); err != nil {
		return nil, nil, err
	}
	if root.XMLName.Local != "Response" {
		return nil, nil, fmt.Errorf("root element is <%s>, not <Response>", root.XMLName.Local)
	}
	var walk func(n twimlNode)
	walk = func(n twimlNode) {
		switch n.XMLName.Local {
		case "Say":
			if t := strings.TrimSpace(n.Text); t != "" && !slices.Contains(say, t) {
				say = append(say, t)
			}
		case "Gather":
			for _, a := range n.Attrs {
				if a.Name.Local == "action" && !slices.Contains(actions, a.Value) {
					actions = append(actions, a.Value)
				}
			}
		}
		for _, c := range n.Nodes {
			walk(c)
		}
	}
	walk(root)
	return say, actions, nil
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// findLinks returns the URLs in text, without trailing punctuation.
func findLinks(text string) []string {
	var out []string
	for _, l := range linkPattern.FindAllString(text, -1) {
		out = append(out, strings.TrimRight(l, ".,;:!?)]'"))
	}
	return out
}

func inboxLinks(urls []string, label string) []inbox.Link {
	var out []inbox.Link
	for _, u := range urls {
		l := label
		if l == "" {
			l = u
		}
		out = append(out, inbox.Link{Label: l, URL: u})
	}
	return out
}

// optOutWords and optInWords are the keywords Twilio handles itself.
var (
	optOutWords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
	optInWords  = []string{"START", "YES", "UNSTOP"}
)

// SendInboundSMS posts, signed as Twilio does, the webhook of an SMS that
// from texts to the number that last texted from (or FakeOptions.Number) to
// targetURL, the app's SMS webhook. Like Twilio, a STOP keyword opts from out:
// later SMS to from fail with 21610 until from texts START.
func (f *Fake) SendInboundSMS(ctx context.Context, targetURL, from, body string) (*http.Response, error) {
	to := f.opts.Number
	for _, d := range slices.Backward(f.Received()) {
		if d.Kind == "sms" && d.To == from {
			to = d.From
			break
		}
	}
	word := strings.ToUpper(strings.TrimSpace(body))
	f.mu.Lock()
	f.seq++
	sid := fmt.Sprintf("SM%032x", f.seq)
	switch {
	case slices.Contains(optOutWords, word):
		f.optedOut[from] = true
	case slices.Contains(optInWords, word):
		delete(f.optedOut, from)
	}
	f.mu.Unlock()
	form := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid},
		"AccountSid": {f.opts.AccountSID}, "From": {from}, "To": {to}, "Body": {body},
		"NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"},
	}
	return f.post(ctx, targetURL, form, sid)
}

// PressDigits posts, signed as Twilio does, the Gather callback of call
// callSid to targetURL (the Gather action) after person, the number that was
// called, pressed digits.
func (f *Fake) PressDigits(ctx context.Context, targetURL, callSid, person, digits string) (*http.Response, error) {
	caller := f.opts.Number
	for _, d := range f.Received() {
		if d.Kind == "voice" && d.SID == callSid {
			caller = d.From
		}
	}
	// For a call the API placed, Twilio's From is the caller ID and To the person called.
	form := url.Values{
		"CallSid": {callSid}, "AccountSid": {f.opts.AccountSID}, "From": {caller}, "To": {person},
		"Digits": {digits}, "CallStatus": {"in-progress"}, "Direction": {"outbound-api"},
		"FinishedOnKey": {""}, "ApiVersion": {"2010-04-01"},
	}
	return f.post(ctx, targetURL, form, callSid+"-"+digits)
}

func (f *Fake) post(ctx context.Context, targetURL string, form url.Values, idempotency string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, targetURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("twilio fake: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", idempotency)
	req.Header.Set(SignatureHeader, Sign(f.opts.AuthToken, targetURL, form))
	resp, err := f.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("twilio fake: webhook: %w", err)
	}
	return resp, nil
}
