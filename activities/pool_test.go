package activities_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// onStore returns a copy of f whose Deliver runs on st, with dbWait as its bound on
// waiting for the database.
func (f *deliveryFixture) onStore(t *testing.T, st *store.Store, dbWait time.Duration) *deliveryFixture {
	t.Helper()
	g := *f
	g.acts, g.env = newDeliverEnv(t, st, dbWait)
	return &g
}

// TestDeliverOnADryPool: when every connection of the application database's pool is
// taken, or PostgreSQL refuses new connections, a delivery's try is Hookflow's internal
// failure: nothing is sent, no attempt is recorded, and once connections are back the
// delivery's first attempt goes out as attempt 1.
func TestDeliverOnADryPool(t *testing.T) {
	base := os.Getenv(storetest.EnvDatabaseURL)
	if base == "" {
		t.Skip("needs PostgreSQL (" + storetest.EnvDatabaseURL + ")")
	}
	db := storetest.Database{Name: "postgres", URL: storetest.NewPostgresSchema(t, base)}
	ctx := context.Background()

	t.Run("PoolTaken", func(t *testing.T) {
		rc := newReceiver(t)
		f := newDeliveryFixture(t, db, rc)
		small, err := store.OpenPool(ctx, db.URL, nil, store.Pool{MaxOpen: 1, MaxIdle: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = small.Close() })
		g := f.onStore(t, small, 300*time.Millisecond)
		held, err := small.SQL().Conn(ctx) // the pool's one connection
		if err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		_, err = g.deliver(0)
		waited := time.Since(started)
		if appErr := appError(t, err); appErr.Type() != workflows.ErrInternal {
			t.Fatalf("Deliver on a taken pool = %v (type %s), want %s", err, appErr.Type(), workflows.ErrInternal)
		}
		if waited > 5*time.Second {
			t.Errorf("Deliver waited %v for a connection, want about its 300ms bound", waited)
		}
		if n := len(rc.requests()); n != 0 {
			t.Fatalf("receiver got %d requests while the pool was taken, want 0", n)
		}
		if got := small.PoolStats().WaitCount; got < 1 {
			t.Errorf("pool stats count %d waits, want ≥ 1", got)
		}
		_ = held.Close()
		res, err := g.deliver(0)
		if err != nil || res.Outcome != workflows.OutcomeSucceeded || res.Attempt != 1 {
			t.Fatalf("Deliver once the connection is back = %+v, %v; want succeeded at attempt 1", res, err)
		}
		if got := f.attempts(t); len(got) != 1 || got[0] != 1 {
			t.Fatalf("attempts recorded %v, want [1]", got)
		}
	})

	t.Run("ConnectionsRefused", func(t *testing.T) {
		rc := newReceiver(t)
		f := newDeliveryFixture(t, db, rc)
		// A role PostgreSQL lets open one connection, as a server out of connections
		// refuses any more (superusers are exempt from a role's limit, hence the role).
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(ctx)
		var b [4]byte
		_, _ = rand.Read(b[:])
		role := "hf_limited_" + hex.EncodeToString(b[:])
		schema := searchPath(t, db.URL)
		for _, q := range []string{
			"CREATE ROLE " + role + " LOGIN CONNECTION LIMIT 1",
			"GRANT USAGE ON SCHEMA " + schema + " TO " + role,
			"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + role,
			"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + role,
		} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		t.Cleanup(func() {
			c, err := pgx.Connect(context.Background(), base)
			if err != nil {
				return
			}
			defer c.Close(context.Background())
			_, _ = c.Exec(context.Background(), "DROP OWNED BY "+role)
			_, _ = c.Exec(context.Background(), "DROP ROLE "+role)
		})
		roleURL := withUser(t, db.URL, role)
		limited, err := store.OpenPool(ctx, roleURL, nil, store.Pool{MaxOpen: 4, MaxIdle: 0})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = limited.Close() })
		g := f.onStore(t, limited, 2*time.Second)
		// A backend ends a moment after its client closes it: wait until the role's
		// connections are down to want.
		waitRoleConns := func(want int) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				var n int
				if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", role).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n <= want {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("role %s still has %d connections, want %d", role, n, want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		waitRoleConns(0) // the store's start-up ping
		// Another client takes the role's one connection.
		other, err := pgx.Connect(ctx, roleURL)
		if err != nil {
			t.Fatal(err)
		}
		_, err = g.deliver(0)
		if appErr := appError(t, err); appErr.Type() != workflows.ErrInternal {
			t.Fatalf("Deliver with connections refused = %v (type %s), want %s", err, appErr.Type(), workflows.ErrInternal)
		}
		if n := len(rc.requests()); n != 0 {
			t.Fatalf("receiver got %d requests while connections were refused, want 0", n)
		}
		_ = other.Close(ctx)
		waitRoleConns(0)
		// PostgreSQL frees the role's slot a moment after the backend leaves
		// pg_stat_activity; until then the try is refused again, an internal failure
		// that Temporal retries, as here.
		res, err := g.deliver(0)
		for deadline := time.Now().Add(10 * time.Second); err != nil && appError(t, err).Type() == workflows.ErrInternal && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			res, err = g.deliver(0)
		}
		if err != nil || res.Outcome != workflows.OutcomeSucceeded || res.Attempt != 1 {
			t.Fatalf("Deliver once connections are accepted again = %+v, %v; want succeeded at attempt 1", res, err)
		}
		if got := f.attempts(t); len(got) != 1 || got[0] != 1 {
			t.Fatalf("attempts recorded %v, want [1]", got)
		}
	})
}

// searchPath returns the schema a storetest PostgreSQL URL points at.
func searchPath(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("search_path")
}

// withUser returns dsn connecting as user (no password: the server trusts loopback).
func withUser(t *testing.T, dsn, user string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(user)
	return u.String()
}
