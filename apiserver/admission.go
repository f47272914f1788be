package apiserver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// Admission bounds the work ingestion accepts ahead of delivery (Config.Admission): when
// deliveries fall behind, POST …/events answers 429 with Retry-After to the companies
// whose backlog is over the bound, instead of queueing without limit, while the others'
// events are still accepted.
type Admission struct {
	// CompanyBacklog is how much work (events not fanned out yet and deliveries waiting
	// for their first attempt, store.Unstarted) one company may have outstanding before
	// its events are refused. 0: no bound.
	CompanyBacklog int64
	// TotalBacklog bounds every company's together: past it, the companies with more
	// than an equal share of it are refused. 0: no bound.
	TotalBacklog int64
}

// Default admission bounds, for Config.Admission. A company's burst of a few thousand
// events to a few subscribers is accepted whole; one that keeps sending faster than its
// deliveries go out is held at this much outstanding work: minutes of work for one
// small worker, so that what is accepted is delivered in minutes, not hours, and the
// Temporal server's memory and store stay bounded.
const (
	DefaultCompanyBacklog = 10_000
	DefaultTotalBacklog   = 25_000
)

// backlogTTL is how long one count of the backlog answers: ingestion counts at most once
// a second, however many events arrive.
const backlogTTL = time.Second

// admissionRetryAfter is the wait a refused producer is told: about the time a worker
// takes to start a few thousand deliveries.
const admissionRetryAfter = 2 * time.Second

// backlogStore is what admission needs of the store.
type backlogStore interface {
	Unstarted(ctx context.Context) (map[int64]int64, error)
}

// admission holds the last count of the backlog. Like the catalogue cache, it is a
// snapshot swapped atomically; one request at a time recounts, and the others answer
// from the snapshot they have.
type admission struct {
	cfg        Admission
	snap       atomic.Pointer[backlogSnapshot]
	refreshing sync.Mutex
}

type backlogSnapshot struct {
	byCompany map[int64]int64
	total     int64
	counted   time.Time
}

// over reports whether company's events are refused under snap: its backlog is over
// the company bound, or the total is over the total bound and the company has more than
// an equal share of it. A company at or under an equal share is never refused for
// others' backlog.
func (a *admission) over(snap *backlogSnapshot, company int64) (int64, bool) {
	n := snap.byCompany[company]
	if a.cfg.CompanyBacklog > 0 && n >= a.cfg.CompanyBacklog {
		return n, true
	}
	if a.cfg.TotalBacklog > 0 && snap.total >= a.cfg.TotalBacklog && len(snap.byCompany) > 0 &&
		n > snap.total/int64(len(snap.byCompany)) {
		return n, true
	}
	return n, false
}

// admit answers 429 and returns false when company's events are to be refused. A
// backlog that cannot be counted admits: the check protects delivery, and ingestion
// reports the database's state itself.
func (s *Server) admit(c *gin.Context, company int64) bool {
	a := s.admission
	if a == nil || (a.cfg.CompanyBacklog <= 0 && a.cfg.TotalBacklog <= 0) {
		return true
	}
	now := s.now()
	snap := a.snap.Load()
	if (snap == nil || now.Sub(snap.counted) >= backlogTTL) && a.refreshing.TryLock() {
		fresh, err := s.countBacklog(c.Request.Context(), now)
		a.refreshing.Unlock()
		if err != nil {
			s.log.WarnContext(c.Request.Context(), "count the backlog for admission", "error", err)
		} else {
			snap = fresh
		}
	}
	if snap == nil {
		return true
	}
	n, over := a.over(snap, company)
	if !over {
		return true
	}
	s.log.InfoContext(c.Request.Context(), "event refused: delivery is behind", "company_id", company, "backlog", n, "total_backlog", snap.total)
	s.retryAfter(c, admissionRetryAfter, "delivery is behind: company %d has %d events and deliveries waiting to start (Hookflow accepts more once it catches up)", company, n)
	return false
}

func (s *Server) countBacklog(ctx context.Context, now time.Time) (*backlogSnapshot, error) {
	by, err := s.store.Unstarted(ctx)
	if err != nil {
		return nil, err
	}
	snap := &backlogSnapshot{byCompany: by, counted: now}
	for _, n := range by {
		snap.total += n
	}
	s.admission.snap.Store(snap)
	return snap, nil
}
