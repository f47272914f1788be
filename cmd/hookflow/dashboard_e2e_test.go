package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestDashboard drives the admin dashboard in Chromium against a whole stack: it signs
// in with a partner API key, creates, lists, searches, deactivates, tests, edits,
// filters and deletes webhooks, then follows an event through the delivery log to its
// attempts, retries a failed delivery and reads the health page. Every step is checked
// against the API's state, so that the page is known to act through the REST API, and
// every page is saved as a screenshot in testdata/screenshots.
func TestDashboard(t *testing.T) {
	b := startBrowser(t)
	s := startStack(t, storetest.Databases(t)[0], nil)
	key := mustPartnerKey(t, s)
	ordersRC := newReceiver(t, nil)
	keeperRC := newReceiver(t, func(_ int, r *http.Request) int {
		if r.Header.Get("x-fp-event-id") == "dash-gone" {
			return http.StatusGone
		}
		return http.StatusOK
	})

	// Sign in: a refused key is said at its field; the header shows who a good one
	// belongs to.
	b.do("open the dashboard", chromedp.Navigate(s.APIURL()+"/admin"))
	b.typeInto(`input[name=key]`, "hfk_000000000000_unknown")
	b.click(`form.signin button[type=submit]`)
	b.waitText("the refused key", `[data-field=key] .field-error`, "refused")
	b.typeInto(`input[name=key]`, key)
	b.fill(`input[name=company_id]`, "1")
	b.screenshot("01-sign-in")
	b.click(`form.signin button[type=submit]`)
	b.waitText("the organization in the header", `[data-testid=org]`, "org-1")
	if got := b.text(`[data-testid=ext]`); got != "ext-1" {
		t.Fatalf("header extension = %q, want ext-1", got)
	}
	b.waitText("the empty list", `main`, "No webhooks yet")
	// The key is kept in sessionStorage only.
	if !eval[bool](b, `localStorage.length === 0 && document.cookie === '' && sessionStorage.getItem('hookflow.admin.session').includes(`+jsString(key)+`)`) {
		t.Fatal("the API key is not (only) in sessionStorage")
	}

	// Company 1 has not installed ext-1 yet: the list says so, and a webhook for it is
	// refused with the API's reason; once the platform installs it, the list shows the
	// installation.
	b.waitText("the missing installation", `#installations`, "Company 1 has not installed this extension")
	b.click(`#create-webhook`)
	b.waitJS("the create form", `document.querySelector('#event-type option')`)
	b.fill(`#webhook-form input[name=name]`, "Too early")
	b.typeInto(`#webhook-form input[name=webhook_url]`, ordersRC.URL+"/early")
	b.fill(`#event-resource`, "product")
	b.fill(`#event-type`, "company/product/create/v1")
	b.click(`#add-event`)
	b.click(`#save-webhook`)
	b.waitText("the refusal", `#webhook-form .error-summary`, "company 1 has not installed extension ext-1 of organization org-1")
	b.screenshot("02a-webhook-refused-not-installed")
	if _, n, err := s.Store().ListSubscribers(context.Background(), models.Tenant{OrganizationID: "org-1", ExtensionID: "ext-1"},
		store.SubscriberFilter{PageNo: 1, PageSize: 10}); err != nil || n != 0 {
		t.Fatalf("%d subscribers exist after the refused create (%v)", n, err)
	}
	mustInstallExt(t, s.APIURL(), 1)
	b.do("back to the list", chromedp.Navigate(s.APIURL()+"/admin#/webhooks"))
	b.waitText("the installation", `#installations`, "Installed on company 1 for every application")

	// Create a webhook with a custom header; the secret is generated and shown once.
	ordersID := dashboardCreateWebhook(b, "Orders hook", ordersRC.URL+"/orders", "product", "company/product/create/v1", map[string]string{"X-Team": "dashboard"}, "02-webhook-create")
	b.screenshot("03-webhook-created")
	if secret := b.text(`#created-secret`); !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the created secret shows %q, want whsec_…", secret)
	}
	orders := getSubscriber(t, s, ordersID)
	if orders.Name != "Orders hook" || orders.WebhookURL != ordersRC.URL+"/orders" || orders.CustomHeaders["X-Team"] != "dashboard" ||
		len(orders.Events) != 1 || orders.Events[0].Slug != "company/product/create/v1" || orders.Status != models.StatusActive {
		t.Fatalf("created subscriber = %+v", orders)
	}
	b.click(`a[href="#/webhooks"]`)
	keeperID := dashboardCreateWebhook(b, "Keeper", keeperRC.URL+"/keep", "product", "company/product/create/v1", nil, "")
	b.click(`a[href="#/webhooks"]`)

	// The list: one row per webhook, with resource, event, URL and status.
	b.waitJS("two rows", `document.querySelectorAll('#webhook-table tbody tr').length === 2`)
	row := rowSelector(ordersID)
	for sel, want := range map[string]string{
		row + ` td[data-label=Resource]`: "product",
		row + ` td[data-label=Event]`:    "create",
		row + ` td[data-label=URL]`:      ordersRC.URL + "/orders",
		row + ` td[data-label=Status]`:   "Active",
	} {
		if got := b.text(sel); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to contain %q", sel, got, want)
		}
	}

	// Deactivate it with the keyboard: the ⋮ button opens the menu on Enter, arrows move.
	b.do("focus the menu button", chromedp.Focus(chromedp.CSS(row+` .menu-button`)))
	b.keys("open the menu", kb.Enter)
	b.waitJS("the menu open on Edit", `document.activeElement?.dataset.action === 'edit'`)
	b.screenshot("04-webhook-row-menu")
	b.keys("move to Deactivate", kb.ArrowDown+kb.ArrowDown)
	if f := b.focused(); !strings.Contains(f, "Deactivate") {
		t.Fatalf("focus is on %q, want the Deactivate item", f)
	}
	b.keys("choose Deactivate", kb.Enter)
	b.waitJS("the row inactive", `document.querySelector('`+row+` [data-status]')?.dataset.status === 'inactive'`)
	b.waitText("the status in words", row+` td[data-label=Status]`, "Inactive")
	if got := getSubscriber(t, s, ordersID).Status; got != models.StatusInactive {
		t.Fatalf("status after Deactivate = %s", got)
	}

	// Test it: the ping reaches the receiver and the result shows.
	dashboardMenu(b, ordersID, "test")
	b.waitJS("the ping result", `document.querySelector('#action-result .ping-result')?.dataset.result === 'SUCCESS'`)
	if got := b.text(`#action-result .ping-code`); got != "200" {
		t.Fatalf("ping code shows %q, want 200", got)
	}
	if reqs := ordersRC.requests(); len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), `"name":"ping"`) {
		t.Fatalf("the receiver got %d requests, want the ping", len(reqs))
	}
	b.screenshot("05-webhooks-list")

	// Search (on the server) and filter by status.
	b.typeInto(`#webhook-search`, "orders")
	b.click(`form[role=search] button[type=submit]`)
	b.waitJS("one search result", `location.hash.includes('search=orders') && document.querySelectorAll('#webhook-table tbody tr').length === 1 && document.querySelector('`+row+`')`)
	b.typeInto(`#webhook-search`, "")
	b.fill(`#webhook-status`, "active")
	b.waitJS("only the active webhook", `location.hash.includes('status=active') && document.querySelectorAll('#webhook-table tbody tr').length === 1 && document.querySelector('`+rowSelector(keeperID)+`')`)
	b.click(`#nav a[data-nav=webhooks]`)
	b.waitJS("both rows again", `!location.hash.includes('status') && document.querySelectorAll('#webhook-table tbody tr').length === 2`)
	// Activate it again.
	dashboardMenu(b, ordersID, "activate")
	b.waitText("the row active again", row+` td[data-label=Status]`, "Active")
	if got := getSubscriber(t, s, ordersID).Status; got != models.StatusActive {
		t.Fatalf("status after Activate = %s", got)
	}

	// Edit: the API's field error shows next to its field, then the fix is saved.
	dashboardMenu(b, ordersID, "edit")
	b.waitJS("the edit form", `document.querySelector('#webhook-form input[name=name]')?.value === 'Orders hook'`)
	b.fill(`#webhook-form input[name=name]`, "Orders hook v2")
	b.fill(`#webhook-form input[name=timeout_ms]`, "50")
	b.click(`#save-webhook`)
	b.waitText("the timeout error at its field", `[data-field=timeout_ms] .field-error`, "between 1000 and 30000")
	if !eval[bool](b, `document.querySelector('#webhook-form input[name=timeout_ms]').getAttribute('aria-invalid') === 'true' && document.activeElement.classList.contains('error-summary')`) {
		t.Fatal("the invalid field is not marked, or the error summary did not take the focus")
	}
	b.screenshot("06-webhook-edit-error")
	b.fill(`#webhook-form input[name=timeout_ms]`, "8000")
	b.click(`#save-webhook`)
	b.waitText("saved", `#test-result`, "Saved Orders hook v2")
	if got := getSubscriber(t, s, ordersID); got.Name != "Orders hook v2" || got.TimeoutMS != 8000 || got.CustomHeaders["X-Team"] != "dashboard" {
		t.Fatalf("after the edit: %+v", got)
	}
	b.click(`#test-webhook`)
	b.waitText("the form's test result", `#test-result .ping-status`, "SUCCESS")

	// Filter and reducer: validate on the catalogue's sample payload, then save.
	b.click(`a[href="#/webhooks/` + itoa64(ordersID) + `/filters"]`)
	b.waitJS("the sample payload", `document.querySelector('#sample-json')?.value.includes('Air Zoom Pegasus 40')`)
	b.fill(`#filter-json`, `{"query": "$.brand.name", "condition": "(name) =>"}`)
	b.click(`#validate-filter`)
	b.waitText("the filter's error", `#filter-result`, "Error.")
	b.fill(`#filter-json`, `{"query": "$.brand.name", "condition": "(name) => name === 'Nike'"}`)
	b.click(`#validate-filter`)
	b.waitText("the filter's result", `#filter-result`, "Matches.")
	b.fill(`#reducer-json`, `{"product": "$.name", "brand": "$.brand.name"}`)
	b.click(`#validate-reducer`)
	b.waitText("the reducer's result", `#reducer-output`, `"product": "Air Zoom Pegasus 40"`)
	b.click(`#save-filters`)
	b.waitText("saved filters", `#save-result`, "Saved")
	b.screenshot("07-filters-and-reducers")
	var filters struct{ Query string }
	var reducer map[string]string
	ev := getSubscriber(t, s, ordersID).Events[0]
	if err := json.Unmarshal(ev.Filters, &filters); err != nil || filters.Query != "$.brand.name" {
		t.Fatalf("saved filters = %s (%v)", ev.Filters, err)
	}
	if err := json.Unmarshal(ev.Reducer, &reducer); err != nil || reducer["product"] != "$.name" {
		t.Fatalf("saved reducer = %s (%v)", ev.Reducer, err)
	}

	// Delete, after confirming in the dialog.
	b.click(`#nav a[data-nav=webhooks]`)
	dashboardMenu(b, ordersID, "delete")
	b.waitJS("the confirmation dialog", `document.querySelector('#confirm-dialog').open && document.activeElement.id === 'confirm-cancel'`)
	b.screenshot("08-delete-confirmation")
	b.click(`#confirm-ok`)
	b.waitJS("the row gone", `!document.querySelector('#confirm-dialog').open && !document.querySelector('`+row+`') && document.querySelector('`+rowSelector(keeperID)+`')`)
	b.waitText("the deletion said", `#action-result`, "deleted")
	if code := s.call("GET", partnerBase+"/company/1/subscriber/"+itoa64(ordersID), nil, nil); code != http.StatusNotFound {
		t.Fatalf("GET the deleted subscriber: %d, want 404", code)
	}

	// Events through the API reach the webhook that stays: one is delivered, the other is
	// answered 410 Gone, which fails it at once (and blocks the webhook).
	sendProduct(t, s, "dash-ok")
	waitFor(t, 20*time.Second, "the delivery", func() bool { return s.deliveryStatus(keeperID, "dash-ok") == models.DeliverySucceeded })
	sendProduct(t, s, "dash-gone")
	waitFor(t, 20*time.Second, "the failed delivery", func() bool { return s.deliveryStatus(keeperID, "dash-gone") == models.DeliveryFailed })

	// The delivery log shows both, and the attempts of one.
	b.click(`#nav a[data-nav=deliveries]`)
	okRow := `#delivery-table tr[data-event-id="dash-ok"]`
	goneRow := `#delivery-table tr[data-event-id="dash-gone"]`
	b.waitText("the delivery in the log", okRow+` td[data-label=Status]`, "succeeded")
	b.waitText("the failed delivery in the log", goneRow+` td[data-label=Status]`, "failed")
	if got := b.text(okRow + ` td[data-label=Code]`); got != "200" {
		t.Fatalf("the log's code = %q, want 200", got)
	}
	if got := b.text(goneRow + ` td[data-label=Code]`); got != "410" {
		t.Fatalf("the log's code = %q, want 410", got)
	}
	// It says how far back it goes: the deployment's retention (the defaults here).
	b.waitText("the retention note", `#retention-note`, "Deliveries are kept 30 days after they end; event payloads and response bodies 7 days")
	b.screenshot("09-delivery-log")
	b.click(okRow + ` a`)
	b.waitText("the first attempt", `#attempts-table tr[data-attempt="1"] .attempt-code`, "200")
	d := s.deliveries(keeperID)["dash-ok"]
	href := eval[string](b, `document.querySelector('#temporal-link')?.href ?? ''`)
	if !strings.HasPrefix(href, s.Config.TemporalUIURL) || !strings.Contains(href, d.WorkflowID) {
		t.Fatalf("the Temporal UI link is %q, want one to workflow %s under %s", href, d.WorkflowID, s.Config.TemporalUIURL)
	}
	b.screenshot("10-delivery-attempts")

	// Retry redelivers the failed one.
	b.click(`#nav a[data-nav=deliveries]`)
	b.waitText("the failed delivery in the log", goneRow+` td[data-label=Status]`, "failed")
	series := s.deliveries(keeperID)["dash-gone"].Series
	b.click(goneRow + ` button`)
	b.waitText("the retry said", `#action-result`, "is being retried")
	if got := s.deliveries(keeperID)["dash-gone"].Series; got != series+1 {
		t.Fatalf("series after Retry = %d, want %d", got, series+1)
	}

	// Health: the metrics and the response-time chart.
	b.click(`#nav a[data-nav=health]`)
	b.waitJS("the metrics", `/%$/.test(document.querySelector('#success-rate .metric-value')?.textContent ?? '')`)
	b.waitJS("a point on the response-time chart", `document.querySelectorAll('svg.chart circle.dot').length >= 1`)
	if got := b.text(`#queue-depth .metric-value`); got == "" {
		t.Fatal("no queue depth")
	}
	b.screenshot("11-health")

	// Sign out, and in again with the admin token, which names no organization: the
	// dashboard asks which one to act as.
	b.click(`#sign-out`)
	b.waitJS("the sign-in page", `document.querySelector('form.signin') && sessionStorage.length === 0`)
	b.typeInto(`input[name=key]`, testAdminToken)
	b.click(`form.signin button[type=submit]`)
	b.waitJS("the organization asked for", `document.activeElement?.name === 'organization_id'`)
	b.fill(`input[name=organization_id]`, "org-1")
	b.fill(`input[name=extension_id]`, "ext-1")
	b.click(`form.signin button[type=submit]`)
	b.waitText("acting as org-1", `[data-testid=org]`, "org-1")
	b.waitJS("the webhook of org-1", `document.querySelector('`+rowSelector(keeperID)+`')`)

	// A phone-width screen: the list fits, with the blocked webhook in red and in words.
	b.do("a phone-width screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(s.APIURL()+"/admin#/webhooks"))
	b.waitText("the blocked webhook", rowSelector(keeperID)+` td[data-label=Status]`, "Blocked")
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Fatalf("the list is %d px wide on a 390 px screen", w)
	}
	b.screenshot("12-webhooks-list-390px")

	if p := b.consoleProblems(); len(p) > 0 {
		t.Fatalf("the page logged errors:\n%s", strings.Join(p, "\n"))
	}
}

// dashboardCreateWebhook fills the create form and saves it; it returns the new
// webhook's id, read from the page the form goes to. shot, if set, names a screenshot
// of the filled form.
func dashboardCreateWebhook(b *browser, name, url, resource, slug string, headers map[string]string, shot string) int64 {
	b.t.Helper()
	b.click(`#create-webhook`)
	b.waitJS("the create form", `document.querySelector('#event-type option')`)
	b.fill(`#webhook-form input[name=name]`, name)
	b.typeInto(`#webhook-form input[name=webhook_url]`, url)
	b.fill(`#event-resource`, resource)
	b.fill(`#event-type`, slug)
	b.click(`#test-webhook`)
	b.waitText("test asks to save first", `#test-result`, "Save the webhook first")
	b.click(`#add-event`)
	b.waitJS("the event added", `document.querySelector('#chosen-events li[data-slug="`+slug+`"]')`)
	for k, v := range headers {
		b.click(`#add-header`)
		b.fill(`.header-row:last-child .header-name`, k)
		b.fill(`.header-row:last-child .header-value`, v)
	}
	if shot != "" {
		b.screenshot(shot)
	}
	b.click(`#save-webhook`)
	b.waitJS("the created webhook", `/^#\/webhooks\/\d+\/edit$/.test(location.hash) && document.querySelector('#secret-panel')`)
	hash := eval[string](b, `location.hash`)
	id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(hash, "#/webhooks/"), "/edit"), 10, 64)
	if err != nil {
		b.t.Fatalf("the page after create is %s", hash)
	}
	return id
}

// dashboardMenu chooses an action from the ⋮ menu of a webhook's row, with the mouse.
func dashboardMenu(b *browser, id int64, action string) {
	b.t.Helper()
	row := rowSelector(id)
	b.waitJS("the row of webhook "+itoa64(id), `document.querySelector('`+row+`')`)
	b.click(row + ` .menu-button`)
	b.click(row + ` [data-action="` + action + `"]`)
}

func rowSelector(id int64) string { return `#webhook-table tr[data-id="` + itoa64(id) + `"]` }

// mustPartnerKey creates a partner API key of org-1/ext-1 through the admin API.
func mustPartnerKey(t *testing.T, s *stack) string {
	t.Helper()
	var out struct{ Key string }
	code := s.call("POST", "/service/admin/webhook/v1.0/api_keys",
		map[string]any{"organization_id": "org-1", "extension_id": "ext-1", "name": "dashboard test"}, &out)
	if code != http.StatusCreated || out.Key == "" {
		t.Fatalf("create API key: %d %+v", code, out)
	}
	return out.Key
}

// getSubscriber reads a subscriber back from the store, with its events.
func getSubscriber(t *testing.T, s *stack, id int64) *models.Subscriber {
	t.Helper()
	sub, err := s.Store().GetSubscriber(context.Background(), models.Tenant{OrganizationID: "org-1", ExtensionID: "ext-1"}, 1, id)
	if err != nil {
		t.Fatalf("load subscriber %d: %v", id, err)
	}
	return sub
}

// sendProduct sends a product-created event to company 1, with the catalogue's kind of payload.
func sendProduct(t *testing.T, s *stack, id string) {
	t.Helper()
	var out map[string]any
	ev := map[string]any{"id": id, "event_slug": "company/product/create/v1",
		"payload": map[string]any{"uid": 7501, "name": "Air Zoom Pegasus 40", "brand": map[string]any{"uid": 238, "name": "Nike"}}}
	if code := s.call("POST", eventsPath, ev, &out); code != http.StatusAccepted {
		t.Fatalf("send %s: %d %v", id, code, out)
	}
}
