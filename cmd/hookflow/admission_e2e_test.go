package main_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestAdmissionUnderOverload: a company whose receiver holds every request 1.5 s sends
// 120 events from 8 clients, 40 a second, against a company bound of 20 outstanding. Past the
// bound its events are answered 429 with Retry-After and, sent again after the wait, are
// all accepted in the end and all delivered, once each; meanwhile a second company's
// events are accepted at the first try.
func TestAdmissionUnderOverload(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		const events, bound = 120, 20
		dbs := storetest.Databases(t)
		s := startStack(t, dbs[len(dbs)-1], func(c *main.Config) {
			withMode(mode)(c)
			c.AdmissionCompanyBacklog, c.AdmissionTotalBacklog = bound, 0
		})
		slow := newFlowReceiver(t, 1500*time.Millisecond)
		quick := newFlowReceiver(t, 0)
		busySub := s.createSubscriber(slow.URL+"/busy", nil)
		mustInstallExt(t, s.APIURL(), 2)
		var out map[string]any
		if code := s.call("POST", partnerBase+"/company/2/subscriber", subscriberBody(quick.URL+"/quiet", "quiet-secret", "company/product/create/v1"), &out); code != 201 {
			t.Fatalf("create company 2's subscriber: %d %v", code, out)
		}

		send := func(company int, id string) (int, string) {
			body := `{"id":"` + id + `","event_slug":"company/product/create/v1","payload":{"uid":1}}`
			req, _ := http.NewRequest(http.MethodPost, s.APIURL()+"/service/platform/webhook/v1.0/company/"+strconv.Itoa(company)+"/events", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testAdminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return 0, ""
			}
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Retry-After")
		}
		var refused atomic.Int64
		var wg sync.WaitGroup
		next := make(chan int)
		for range 8 {
			wg.Go(func() {
				for i := range next {
					time.Sleep(200 * time.Millisecond)
					for {
						code, after := send(1, "busy-"+mode+"-"+strconv.Itoa(i))
						if code == http.StatusAccepted {
							break
						}
						if code != http.StatusTooManyRequests || after == "" {
							t.Errorf("event %d: %d (Retry-After %q), want 202, or 429 with Retry-After", i, code, after)
							return
						}
						refused.Add(1)
						wait, _ := strconv.Atoi(after)
						time.Sleep(time.Duration(wait) * time.Second)
					}
				}
			})
		}
		go func() {
			for i := range events {
				next <- i
			}
			close(next)
		}()
		waitFor(t, time.Minute, "the busy company to be refused", func() bool { return refused.Load() > 0 })
		for i := range 3 {
			if code, _ := send(2, "quiet-"+mode+"-"+strconv.Itoa(i)); code != http.StatusAccepted {
				t.Errorf("company 2's event %d while company 1 is over its bound: %d, want 202", i, code)
			}
		}
		wg.Wait()
		t.Logf("%s: %d answers 429 to company 1's %d events", mode, refused.Load(), events)
		waitFor(t, 2*time.Minute, "every accepted event delivered", func() bool {
			return len(slow.times()) == events && len(quick.times()) == 3
		})
		checkStoreSucceeded(t, s.Store(), []int64{busySub}, events)
		checkOneAttemptEach(t, s.Store(), []int64{busySub})
	})
}
