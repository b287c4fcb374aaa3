package integrations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrInvalid marks a request a client refused to send: trying again cannot help.
var ErrInvalid = errors.New("invalid request")

// maxBody bounds what a provider's answer may be read to.
const maxBody = 1 << 20

// DoJSON sends one JSON request to a provider's REST API within timeout and
// decodes a 2xx answer into out. auth sets the provider's credentials on the
// request. Every failure goes through classify, the provider's one
// classifier: a request that cannot be built wraps ErrInvalid.
func DoJSON(ctx context.Context, hc *http.Client, timeout time.Duration, method, url string,
	auth func(*http.Request), in, out any, classify func(*http.Response, []byte, error) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return classify(nil, nil, fmt.Errorf("encode request: %w: %v", ErrInvalid, err))
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return classify(nil, nil, fmt.Errorf("build request: %w: %v", ErrInvalid, err))
	}
	auth(req)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return classify(nil, nil, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return classify(nil, nil, fmt.Errorf("read response: %w", err))
	}
	if e := classify(resp, b, nil); e != nil {
		return e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return classify(nil, nil, fmt.Errorf("decode response: %w", err))
		}
	}
	return nil
}
