package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// DefaultIssueType is the issue type CreateIssue uses when Config.IssueType is empty.
const DefaultIssueType = "Task"

// defaultTimeout bounds each HTTP request when Config.Timeout is zero.
const defaultTimeout = 10 * time.Second

// maxSummary is Jira's summary length limit, in characters.
const maxSummary = 255

// Config holds what the client needs to reach one Jira Cloud project.
type Config struct {
	BaseURL    string              // https://<site>.atlassian.net; required
	Email      string              // the account the API token belongs to
	APIToken   integrations.Secret // sent as Basic email:token
	ProjectKey string              // e.g. "OPS"
	IssueType  string              // default DefaultIssueType
	HTTPClient *http.Client        // default a new http.Client
	Timeout    time.Duration       // per request; default 10s
}

// ConfigFromEnv reads JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN (or
// JIRA_API_TOKEN_FILE), JIRA_PROJECT and JIRA_ISSUE_TYPE. ok is false when
// none of them is set: the tracker is then disabled.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	token, err := integrations.ReadSecret(getenv, "JIRA_API_TOKEN")
	if err != nil {
		return Config{}, false, fmt.Errorf("jira config: %w", err)
	}
	cfg = Config{
		BaseURL:    getenv("JIRA_BASE_URL"),
		Email:      getenv("JIRA_EMAIL"),
		APIToken:   token,
		ProjectKey: getenv("JIRA_PROJECT"),
		IssueType:  getenv("JIRA_ISSUE_TYPE"),
	}
	ok = cfg.BaseURL != "" || cfg.Email != "" || cfg.APIToken != "" || cfg.ProjectKey != ""
	return cfg, ok, nil
}

// Client opens and reads issues in one Jira project. It is safe for concurrent use.
type Client struct {
	baseURL   string
	email     string
	token     integrations.Secret
	project   string
	issueType string
	http      *http.Client
	timeout   time.Duration
}

// New checks cfg and returns a client. It reports every bad field at once.
func New(cfg Config) (*Client, error) {
	var errs []error
	if cfg.BaseURL == "" {
		errs = append(errs, errors.New("base URL is required (JIRA_BASE_URL, e.g. https://example.atlassian.net)"))
	} else if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base URL %q is not an http(s) URL (JIRA_BASE_URL)", cfg.BaseURL))
	}
	if cfg.Email == "" {
		errs = append(errs, errors.New("email is required (JIRA_EMAIL)"))
	}
	if cfg.APIToken == "" {
		errs = append(errs, errors.New("API token is required (JIRA_API_TOKEN)"))
	}
	if cfg.ProjectKey == "" {
		errs = append(errs, errors.New("project key is required (JIRA_PROJECT)"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("jira config: %w", err)
	}
	if cfg.IssueType == "" {
		cfg.IssueType = DefaultIssueType
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	return &Client{
		baseURL:   strings.TrimRight(cfg.BaseURL, "/"),
		email:     cfg.Email,
		token:     cfg.APIToken,
		project:   cfg.ProjectKey,
		issueType: cfg.IssueType,
		http:      cfg.HTTPClient,
		timeout:   cfg.Timeout,
	}, nil
}

// Issue is what CreateIssue opens.
type Issue struct {
	Marker            string   // the sitrep incident or action-item ID; becomes the label MarkerLabel(Marker)
	Summary           string   // one line; newlines become spaces, cut to 255 characters
	Description       string   // plain text; blank lines separate paragraphs
	Priority          string   // e.g. "Highest", "High"; empty keeps the project default
	Labels            []string // more labels; spaces become dashes
	AssigneeAccountID string   // Atlassian account ID; empty leaves it unassigned
}

// Status is an issue's workflow status.
type Status struct {
	Name     string // the status's name, e.g. "In Progress" (localised, site-specific)
	Category string // new, indeterminate or done: use this to decide
}

// MarkerLabel returns the label that ties an issue to marker: "sitrep-"
// followed by marker with every character other than letters, digits and
// ._:- replaced by a dash (Jira labels cannot hold spaces).
func MarkerLabel(marker string) string {
	return "sitrep-" + label(marker)
}

// label makes s a valid Jira label.
func label(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == ':', r == '-':
			return r
		}
		return '-'
	}, s)
	if len(s) > maxSummary {
		s = s[:maxSummary]
	}
	return s
}

// summary makes s a valid one-line summary.
func summary(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxSummary {
		s = string(r[:maxSummary])
	}
	return s
}

// issueRef is the part of an issue the client reads from create, get and search.
type issueRef struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Status struct {
			Name           string `json:"name"`
			StatusCategory struct {
				Key string `json:"key"`
			} `json:"statusCategory"`
		} `json:"status"`
	} `json:"fields"`
}

// CreateIssue opens iss in the project and returns its key (e.g. "OPS-24").
// When an issue already carries MarkerLabel(iss.Marker), it returns that
// issue's key instead.
func (c *Client) CreateIssue(ctx context.Context, iss Issue) (string, error) {
	if iss.Marker == "" {
		return "", classify(nil, nil, fmt.Errorf("create issue: %w: marker is empty", errInvalid))
	}
	mark := MarkerLabel(iss.Marker)
	key, err := c.findByLabel(ctx, mark)
	if err != nil || key != "" {
		return key, err
	}
	labels := []string{mark}
	for _, l := range iss.Labels {
		if l = label(l); l != "" && l != mark {
			labels = append(labels, l)
		}
	}
	fields := map[string]any{
		"project":   map[string]string{"key": c.project},
		"issuetype": map[string]string{"name": c.issueType},
		"summary":   summary(iss.Summary),
		"labels":    labels,
	}
	if doc := textToADF(iss.Description); doc != nil {
		fields["description"] = doc
	}
	if iss.Priority != "" {
		fields["priority"] = map[string]string{"name": iss.Priority}
	}
	if iss.AssigneeAccountID != "" {
		fields["assignee"] = map[string]string{"accountId": iss.AssigneeAccountID}
	}
	var created issueRef
	if err := c.do(ctx, http.MethodPost, "/rest/api/3/issue", map[string]any{"fields": fields}, &created); err != nil {
		return "", err
	}
	return created.Key, nil
}

// findByLabel returns the key of an issue in the project labelled l, or "".
func (c *Client) findByLabel(ctx context.Context, l string) (string, error) {
	q := url.Values{
		"jql":        {fmt.Sprintf("project = %q AND labels = %q", c.project, l)},
		"fields":     {"status,summary"},
		"maxResults": {"1"},
	}
	var res struct {
		Issues []issueRef `json:"issues"`
	}
	if err := c.do(ctx, http.MethodGet, "/rest/api/3/search/jql?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	if len(res.Issues) == 0 {
		return "", nil
	}
	return res.Issues[0].Key, nil
}

// IssueStatus returns the current status of issue key. It reads the issue
// itself, which is strongly consistent, rather than searching.
func (c *Client) IssueStatus(ctx context.Context, key string) (Status, error) {
	if key == "" {
		return Status{}, classify(nil, nil, fmt.Errorf("issue status: %w: key is empty", errInvalid))
	}
	var iss issueRef
	if err := c.do(ctx, http.MethodGet, "/rest/api/3/issue/"+url.PathEscape(key)+"?fields=status", nil, &iss); err != nil {
		return Status{}, err
	}
	return Status{Name: iss.Fields.Status.Name, Category: iss.Fields.Status.StatusCategory.Key}, nil
}

// do sends one request and decodes a 2xx answer into out. Every failure
// comes back through classify.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	return integrations.DoJSON(ctx, c.http, c.timeout, method, c.baseURL+path,
		func(req *http.Request) { req.SetBasicAuth(c.email, c.token.Reveal()) }, in, out, classify)
}
