package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookflow/hookflow/models"
)

// subscriberFlow is a subscriber's flow-control state, shared by every worker: the rate
// limiter's schedule, the receiver's push-back (models.Flow) and the epoch of its limits.
// A subscriber has a row once it was limited or pushed back; LoadDeliveryJob reads it
// with the delivery.
type subscriberFlow struct {
	SubscriberID int64 `gorm:"primaryKey;autoIncrement:false"`
	Epoch        int64 `gorm:"not null;default:0"`
	// NextTurnUS is the limiter's theoretical arrival time (GCRA), in Unix microseconds:
	// the turn after the last one given, before the burst allowance.
	NextTurnUS      int64   `gorm:"not null;default:0"`
	PushBackRate    float64 `gorm:"type:double precision;not null;default:0"`
	PushBackAtUS    int64   `gorm:"not null;default:0"`
	PushBackCeiling float64 `gorm:"type:double precision;not null;default:0"`
	PausedUntilUS   int64   `gorm:"not null;default:0"`
}

func (subscriberFlow) TableName() string { return "subscriber_flows" }

func (f subscriberFlow) flow() models.Flow {
	return models.Flow{Epoch: f.Epoch, PushBackRate: f.PushBackRate, PushBackAt: fromMicros(f.PushBackAtUS),
		PushBackCeiling: f.PushBackCeiling, PausedUntil: fromMicros(f.PausedUntilUS)}
}

// flowLease is a request in flight to a subscriber with max_in_flight: a slot, held
// until the attempt is recorded or, when its worker is lost, until it expires.
type flowLease struct {
	SubscriberID int64 `gorm:"primaryKey;autoIncrement:false"`
	DeliveryID   int64 `gorm:"primaryKey;autoIncrement:false"`
	ExpiresUS    int64 `gorm:"not null"`
}

func (flowLease) TableName() string { return "flow_leases" }

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

// greatest is the SQL function of the larger of two values.
func (s *Store) greatest() string {
	if s.dialect == "postgres" {
		return "GREATEST"
	}
	return "MAX"
}

// Turn is a delivery's turn under its subscriber's rate: when it may be sent, under the
// limits of Epoch.
type Turn struct {
	At    time.Time
	Epoch int64
}

// TakeTurn gives the next turn of subscriber id at rate deliveries per second, letting
// burst of them go at once after a quiet spell, not before notBefore (now, or the end of
// a push-back's pause). Turns are reserved: every caller gets its own, one interval
// after the previous, so that the receiver sees the rate however many workers ask, and
// a caller given a later turn waits for it rather than asking again (the generic cell
// rate algorithm, scheduling form). One statement.
func (s *Store) TakeTurn(ctx context.Context, id int64, rate float64, burst int, notBefore time.Time) (Turn, error) {
	turn, _, err := s.TakeTurnWithin(ctx, id, rate, burst, notBefore, anyWait)
	return turn, err
}

// anyWait bounds no turn: two hundred years, six million turns at the lowest rate.
const anyWait = 200 * 365 * 24 * time.Hour

// TakeTurnWithin is TakeTurn when the turn comes within of notBefore; otherwise it
// reserves nothing and returns, with reserved false, when the next turn would have been.
// One statement, and a read when nothing was reserved.
func (s *Store) TakeTurnWithin(ctx context.Context, id int64, rate float64, burst int, notBefore time.Time, within time.Duration) (turn Turn, reserved bool, err error) {
	if rate <= 0 {
		return Turn{}, false, fmt.Errorf("take a turn of subscriber %d: rate %g", id, rate)
	}
	interval := max(int64(1e6/rate), 1)
	tolerance := int64(max(burst, 1)-1) * interval
	now := notBefore.UnixMicro()
	var row struct {
		NextTurnUS int64
		Epoch      int64
	}
	g := s.greatest()
	err = s.db.WithContext(ctx).Raw(`INSERT INTO subscriber_flows (subscriber_id, epoch, next_turn_us, push_back_rate,
			push_back_at_us, push_back_ceiling, paused_until_us) VALUES (?, 0, ?, 0, 0, 0, 0)
		ON CONFLICT (subscriber_id) DO UPDATE SET next_turn_us = `+g+`(subscriber_flows.next_turn_us, ?) + ?
		WHERE `+g+`(subscriber_flows.next_turn_us, ?) - ? <= ?
		RETURNING next_turn_us, epoch`, id, now+interval, now, interval, now, tolerance, now+within.Microseconds()).Scan(&row).Error
	if err != nil {
		return Turn{}, false, dbError(err, "")
	}
	if row.NextTurnUS != 0 {
		return Turn{At: time.UnixMicro(max(now, row.NextTurnUS-interval-tolerance)), Epoch: row.Epoch}, true, nil
	}
	var cur subscriberFlow
	if err := s.db.WithContext(ctx).Where("subscriber_id = ?", id).Take(&cur).Error; err != nil {
		return Turn{}, false, dbError(err, "")
	}
	return Turn{At: time.UnixMicro(max(now, cur.NextTurnUS-tolerance)), Epoch: cur.Epoch}, false, nil
}

// TakeSlot takes one of subscriber id's max request slots for delivery until expires,
// and reports whether one was free. A delivery that holds a slot already (a try after
// its worker was lost) renews it. Slots of lost workers are free once they expire.
func (s *Store) TakeSlot(ctx context.Context, id, deliveryID int64, limit int, now, expires time.Time) (bool, error) {
	taken := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The subscriber's flow row serializes its slot-takers.
		if err := s.lockFlow(tx, id); err != nil {
			return err
		}
		if err := tx.Where("subscriber_id = ? AND expires_us <= ?", id, now.UnixMicro()).Delete(&flowLease{}).Error; err != nil {
			return err
		}
		res := tx.Exec(`INSERT INTO flow_leases (subscriber_id, delivery_id, expires_us)
			SELECT ?, ?, ? WHERE (SELECT COUNT(*) FROM flow_leases WHERE subscriber_id = ? AND delivery_id <> ?) < ?
			ON CONFLICT (subscriber_id, delivery_id) DO UPDATE SET expires_us = excluded.expires_us`,
			id, deliveryID, expires.UnixMicro(), id, deliveryID, limit)
		if res.Error != nil {
			return res.Error
		}
		taken = res.RowsAffected > 0
		return nil
	})
	if err != nil {
		return false, dbError(err, "")
	}
	return taken, nil
}

// FreeSlot frees the slot that delivery holds, if any.
func (s *Store) FreeSlot(ctx context.Context, id, deliveryID int64) error {
	err := s.db.WithContext(ctx).Where("subscriber_id = ? AND delivery_id = ?", id, deliveryID).Delete(&flowLease{}).Error
	return dbError(err, "")
}

// lockFlow creates subscriber id's flow row when missing and locks it until tx ends
// (SQLite transactions are serialized already).
func (s *Store) lockFlow(tx *gorm.DB, id int64) error {
	return tx.Exec(`INSERT INTO subscriber_flows (subscriber_id, epoch, next_turn_us, push_back_rate, push_back_at_us,
			push_back_ceiling, paused_until_us) VALUES (?, 0, 0, 0, 0, 0, 0)
		ON CONFLICT (subscriber_id) DO UPDATE SET epoch = subscriber_flows.epoch`, id).Error
}

// PushBack records that sub's receiver answered 429 or 503 at now (with Retry-After
// retryAfter, or 0): see models.PushedBack. When sub had no rate, the rate it was being
// sent at is counted from its attempts of the last ten seconds. Returns the new flow.
func (s *Store) PushBack(ctx context.Context, sub *models.Subscriber, now time.Time, retryAfter time.Duration) (models.Flow, error) {
	var out models.Flow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockFlow(tx, sub.ID); err != nil {
			return err
		}
		var row subscriberFlow
		if err := tx.Where("subscriber_id = ?", sub.ID).Take(&row).Error; err != nil {
			return err
		}
		f := row.flow()
		recent := 0.0
		if models.EffectiveRate(sub, f, now) <= 0 {
			const window = 10 * time.Second
			var n int64
			err := tx.Model(&models.Attempt{}).Where("organization_id = ? AND extension_id = ? AND attempted_on >= ? AND subscriber_id = ?",
				sub.OrganizationID, sub.ExtensionID, now.Add(-window), sub.ID).Count(&n).Error
			if err != nil {
				return err
			}
			recent = float64(n) / window.Seconds()
		}
		out = models.PushedBack(sub, f, now, recent, retryAfter)
		// As stored: to the microsecond.
		out.PushBackAt, out.PausedUntil = fromMicros(micros(out.PushBackAt)), fromMicros(micros(out.PausedUntil))
		return tx.Model(&subscriberFlow{}).Where("subscriber_id = ?", sub.ID).Updates(map[string]any{
			"push_back_rate": out.PushBackRate, "push_back_at_us": micros(out.PushBackAt),
			"push_back_ceiling": out.PushBackCeiling, "paused_until_us": micros(out.PausedUntil),
		}).Error
	})
	if err != nil {
		return models.Flow{}, dbError(err, "")
	}
	return out, nil
}

// SubscriberFlows returns the flow state of the subscribers ids that have one.
func (s *Store) SubscriberFlows(ctx context.Context, ids []int64) (map[int64]models.Flow, error) {
	out := make(map[int64]models.Flow, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []subscriberFlow
	if err := s.rdb.WithContext(ctx).Where("subscriber_id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, dbError(err, "")
	}
	for _, r := range rows {
		out[r.SubscriberID] = r.flow()
	}
	return out, nil
}

// resetFlow starts subscriber id's flow afresh under new limits, inside tx: a new epoch
// (turns already given are taken again), an empty schedule, no push-back. A pause the
// receiver asked for (Retry-After) stays.
func (s *Store) resetFlow(tx *gorm.DB, id int64) error {
	return tx.Model(&subscriberFlow{}).Where("subscriber_id = ?", id).Updates(map[string]any{
		"epoch": gorm.Expr("epoch + 1"), "next_turn_us": 0, "push_back_rate": 0, "push_back_at_us": 0,
		"push_back_ceiling": 0,
	}).Error
}
