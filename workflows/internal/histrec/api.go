package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The tenant every scenario's subscribers belong to.
const (
	organizationID = "org-histrec"
	extensionID    = "ext-histrec"
	eventSlug      = "company/product/create/v1"
)

const partnerPrefix = "/service/partner/webhook/v1.0/organization/" + organizationID + "/extension/" + extensionID

// apiClient calls Hookflow's REST API with the admin token.
type apiClient struct {
	base  string
	token string
	http  http.Client
}

// do sends in as JSON (when not nil), checks that the answer has status want, and
// decodes it into out (when not nil).
func (a *apiClient) do(ctx context.Context, method, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// subscriberSpec is what a scenario's subscriber differs in.
type subscriberSpec struct {
	path           string // receiver path
	status         string // "" for active
	inactivePolicy string // "" for the default (queue)
	filter         any    // nil for none
}

type subscriberCreate struct {
	Name           string            `json:"name"`
	WebhookURL     string            `json:"webhook_url"`
	Status         string            `json:"status,omitempty"`
	InactivePolicy string            `json:"inactive_policy,omitempty"`
	Events         []subscriberEvent `json:"events"`
}

type subscriberEvent struct {
	Slug    string `json:"slug"`
	Filters any    `json:"filters,omitempty"`
}

// createSubscriber creates a subscriber of company to eventSlug and returns its id.
func (a *apiClient) createSubscriber(ctx context.Context, company int64, receiverURL string, s subscriberSpec) (int64, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	// The company installs the extension first, as it must before a partner subscribes
	// there; it has already when a scenario subscribes twice.
	err := a.do(ctx, http.MethodPost, "/service/platform/webhook/v1.0/installation",
		map[string]any{"organization_id": organizationID, "extension_id": extensionID, "company_id": company}, nil, http.StatusCreated)
	if err != nil && !strings.Contains(err.Error(), "status 409") {
		return 0, err
	}
	err = a.do(ctx, http.MethodPost, fmt.Sprintf("%s/company/%d/subscriber", partnerPrefix, company), subscriberCreate{
		Name: "histrec " + s.path, WebhookURL: receiverURL + s.path, Status: s.status, InactivePolicy: s.inactivePolicy,
		Events: []subscriberEvent{{Slug: eventSlug, Filters: s.filter}},
	}, &out, http.StatusCreated)
	return out.ID, err
}

// activate sets a subscriber's status to active, which releases its queued deliveries.
func (a *apiClient) activate(ctx context.Context, subscriberID int64) error {
	return a.do(ctx, http.MethodPatch, fmt.Sprintf("%s/subscriber/%d", partnerPrefix, subscriberID),
		map[string]string{"status": "active"}, nil, http.StatusOK)
}

// emit sends an event with a small payload to company and returns its workflow id.
func (a *apiClient) emit(ctx context.Context, company int64, eventID string) (string, error) {
	var out struct {
		WorkflowID string `json:"workflow_id"`
		Duplicate  bool   `json:"duplicate"`
	}
	err := a.do(ctx, http.MethodPost, fmt.Sprintf("/service/platform/webhook/v1.0/company/%d/events", company), map[string]any{
		"id": eventID, "event_slug": eventSlug, "payload": map[string]any{"uid": 1},
	}, &out, http.StatusAccepted)
	if err == nil && out.Duplicate {
		err = fmt.Errorf("event %s of company %d was accepted before", eventID, company)
	}
	return out.WorkflowID, err
}

// deliveryRow is a row of the delivery details report.
type deliveryRow struct {
	DeliveryID   int64  `json:"delivery_id"`
	SubscriberID int64  `json:"subscriber_id"`
	Status       string `json:"status"`
}

// deliveries lists company's deliveries created since since.
func (a *apiClient) deliveries(ctx context.Context, company int64, since time.Time) ([]deliveryRow, error) {
	var out struct {
		Rows []deliveryRow `json:"rows"`
	}
	err := a.do(ctx, http.MethodPost, partnerPrefix+"/report/delivery_details", map[string]any{
		"start_date": since.UTC().Format(time.RFC3339), "end_date": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"company_id": company, "page_size": 100,
	}, &out, http.StatusOK)
	return out.Rows, err
}

// redeliver redelivers a delivery that has ended and returns the redelivery's workflow id.
func (a *apiClient) redeliver(ctx context.Context, deliveryID int64) (string, error) {
	var out struct {
		WorkflowID string `json:"workflow_id"`
	}
	err := a.do(ctx, http.MethodPost, fmt.Sprintf("%s/delivery/%d/retry", partnerPrefix, deliveryID), nil, &out, http.StatusAccepted)
	return out.WorkflowID, err
}

// bulkRetry redelivers the deliveries of subscriberID created since since with status,
// and returns the job's workflow id.
func (a *apiClient) bulkRetry(ctx context.Context, subscriberID int64, status string, since time.Time) (string, error) {
	var out struct {
		WorkflowID string `json:"workflow_id"`
	}
	err := a.do(ctx, http.MethodPost, partnerPrefix+"/retry", map[string]any{
		"start_date": since.UTC().Format(time.RFC3339), "end_date": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"subscriber_ids": []int64{subscriberID}, "status": status,
	}, &out, http.StatusAccepted)
	return out.WorkflowID, err
}
