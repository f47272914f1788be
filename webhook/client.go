package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hookflow/hookflow/models"
)

// UserAgent names the product on every request.
const UserAgent = "Hookflow-Webhook/1.0 (+https://github.com/hookflow/hookflow)"

// drainLimit is how much of a response body beyond the kept part is read so that the
// connection can be reused; a longer body closes the connection instead of being read.
const drainLimit = 64 << 10

// ClientOptions configures a Client.
type ClientOptions struct {
	// Policy decides which addresses may be dialled; it is applied to the resolved IP of
	// every connection, so DNS answers cannot bypass it.
	Policy models.NetworkPolicy
	// Resolver resolves host names; nil means the system resolver.
	Resolver *net.Resolver
	// MaxIdleConnsPerHost bounds kept-alive connections per destination (default 64).
	MaxIdleConnsPerHost int
}

// Client sends webhook requests. It is safe for concurrent use; build one per process.
type Client struct {
	http   *http.Client
	policy models.NetworkPolicy
}

// NewClient returns a Client that never follows redirects, ignores proxy settings from
// the environment (a proxy would dial on our behalf, past the address check) and refuses
// connections to addresses that opts.Policy forbids.
func NewClient(opts ClientOptions) *Client {
	if opts.MaxIdleConnsPerHost <= 0 {
		opts.MaxIdleConnsPerHost = 64
	}
	policy := opts.Policy
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Resolver:  opts.Resolver,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &PolicyError{Reason: "the host's address cannot be checked", Detail: fmt.Sprintf("cannot parse address %q", address)}
			}
			if err := policy.CheckIP(ap.Addr()); err != nil {
				// The partner wrote a host name, not this address: what it resolves to
				// inside the deployment is not theirs to learn.
				reason := "the host resolves to a forbidden address"
				var ae *models.AddressError
				if errors.As(err, &ae) {
					reason = "the host resolves to " + ae.Kind
				}
				return &PolicyError{Reason: reason, Detail: err.Error()}
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   opts.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &Client{
		policy: policy,
		http: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// PolicyError is returned when the destination is forbidden by the network policy.
// Reason may be shown to the partner; Detail (the refused address) is for the logs.
type PolicyError struct{ Reason, Detail string }

func (e *PolicyError) Error() string {
	if e.Detail != "" {
		return "destination refused: " + e.Reason + " (" + e.Detail + ")"
	}
	return "destination refused: " + e.Reason
}

// Request is one webhook POST.
type Request struct {
	URL           string
	Body          []byte
	Secrets       []string // newest first; see Sign
	MessageID     string   // webhook-id: stable across the retries of one delivery
	EventID       string   // x-fp-event-id
	CustomHeaders map[string]string
	Timeout       time.Duration
	Now           time.Time // signing time; zero means time.Now()
}

// Response is the outcome of a Request. A request that got an answer has StatusCode set;
// one that did not has Err set. ErrorClass classifies both (models.ErrClass*). Err is
// for the logs: it may name internal addresses or quote another service's bytes; what
// a partner is shown is Message.
type Response struct {
	StatusCode int
	Duration   time.Duration
	Body       []byte        // the first models.MaxResponseBody bytes
	RetryAfter time.Duration // from a Retry-After header, 0 when absent or invalid
	Err        error
	ErrorClass string
	// reason is what Message says of Err, judged on the error as the transport
	// returned it (Err keeps its text, not its types).
	reason string
}

// OK reports whether the answer was a 2xx.
func (r Response) OK() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// Message describes the outcome in a few words, for attempt rows, ping answers and
// alerts: a class and a short reason, never an internal address nor bytes the other
// end sent (a receiver URL may point at any service, and its banner is not the
// partner's to read).
func (r Response) Message() string {
	switch {
	case r.Err != nil && r.reason != "":
		return r.reason
	case r.Err != nil:
		return PublicReason(r.Err)
	case r.OK():
		return http.StatusText(r.StatusCode)
	case r.StatusCode >= 300 && r.StatusCode < 400:
		return fmt.Sprintf("HTTP %d: redirects are not followed", r.StatusCode)
	default:
		return fmt.Sprintf("HTTP %d %s", r.StatusCode, http.StatusText(r.StatusCode))
	}
}

// Send signs and POSTs req, and classifies the outcome. It never returns an error itself:
// every failure is described in the Response.
func (c *Client) Send(ctx context.Context, req Request) Response {
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := c.policy.CheckURL(req.URL); err != nil {
		return Response{Err: &PolicyError{Reason: "webhook_url " + err.Error()}, ErrorClass: models.ErrClassRefused}
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = models.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return Response{Err: fmt.Errorf("build request: %w", err), ErrorClass: models.ErrClassConnection}
	}
	h := hreq.Header
	for k, v := range req.CustomHeaders {
		h.Set(k, v)
	}
	// Set after the custom headers so that none of these can be overridden.
	sigs := Sign(req.Secrets, req.MessageID, now.Unix(), req.Body)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", UserAgent)
	h[HeaderFPSignature] = []string{sigs.FP}
	h[HeaderFPEventID] = []string{req.EventID}
	h[HeaderWebhookID] = []string{req.MessageID}
	h[HeaderWebhookTimestamp] = []string{strconv.FormatInt(sigs.Timestamp, 10)}
	h[HeaderWebhookSignature] = []string{sigs.Standard}

	start := time.Now()
	resp, err := c.http.Do(hreq)
	if err != nil {
		return Response{Duration: time.Since(start), Err: cleanError(err), ErrorClass: classify(err), reason: PublicReason(err)}
	}
	// A read error leaves the part read so far; the status code already decided the outcome.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, models.MaxResponseBody))
	// Reading a little more lets the connection be reused; a huge body is cut off.
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	_ = resp.Body.Close()
	out := Response{
		StatusCode: resp.StatusCode,
		Duration:   time.Since(start),
		Body:       body,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode == http.StatusGone:
		out.ErrorClass = models.ErrClassGone
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		out.ErrorClass = models.ErrClassRedirect
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		out.ErrorClass = models.ErrClassClient
	default:
		out.ErrorClass = models.ErrClassServer
	}
	return out
}

// classify maps a transport error to an error class.
func classify(err error) string {
	var pe *PolicyError
	var ne net.Error
	switch {
	case errors.As(err, &pe):
		return models.ErrClassRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return models.ErrClassTimeout
	}
	return models.ErrClassConnection
}

// PublicReason describes a transport error as it may be shown to a partner: which
// class of failure and a short reason, from a fixed vocabulary.
func PublicReason(err error) string {
	var (
		pe   *PolicyError
		dnse *net.DNSError
		ne   net.Error
		rhe  tls.RecordHeaderError
		ae   tls.AlertError
		cve  *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &pe):
		return "refused by policy: " + pe.Reason
	case errors.As(err, &dnse):
		switch {
		case dnse.IsNotFound:
			return "DNS: no such host"
		case dnse.IsTimeout:
			return "DNS: the lookup timed out"
		}
		return "DNS: the lookup failed"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out waiting for the response"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the server"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "the host is unreachable"
	case errors.As(err, &cve):
		return "TLS: " + certificateReason(cve.Err)
	case errors.As(err, &rhe), errors.Is(err, http.ErrSchemeMismatch):
		return "TLS: the server did not answer with TLS"
	case errors.As(err, &ae):
		return "TLS: the server refused the handshake"
	case strings.Contains(err.Error(), "tls: "):
		return "TLS: the handshake failed"
	case strings.Contains(err.Error(), "invalid header field"):
		return "a custom header is not valid HTTP"
	case strings.Contains(err.Error(), "malformed HTTP"):
		return "the server's answer is not HTTP"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection without an answer"
	}
	return "the connection failed"
}

func certificateReason(err error) string {
	var (
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &ua):
		return "the certificate is signed by an unknown authority"
	case errors.As(err, &he):
		return "the certificate is not valid for the host"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return "the certificate has expired or is not yet valid"
	}
	return "the certificate is not valid"
}

// cleanError strips the request URL from a transport error: the URL may carry tokens in
// its query and is already known to the reader of the attempt.
func cleanError(err error) error {
	var pe *PolicyError
	if errors.As(err, &pe) {
		return pe
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("timed out waiting for the response")
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "\": "); i >= 0 {
		msg = msg[i+3:]
	}
	return errors.New(msg)
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > 7*24*3600 {
			secs = 7 * 24 * 3600
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
