package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// plannedSubscribers plans the deliveries of a new event of company 1 and returns the
// subscribers that get one.
func plannedSubscribers(t *testing.T, s *store.Store, id, slug, app string) map[int64]bool {
	t.Helper()
	ctx := context.Background()
	ev := &models.Event{CompanyID: 1, EventID: id, Slug: slug, ApplicationID: app, Payload: []byte(`{"a":1}`), AcceptedAt: time.Now()}
	if _, err := s.StoreEvent(ctx, ev); err != nil {
		t.Fatalf("store event: %v", err)
	}
	planned, _, err := s.PlanDeliveries(ctx, ev, 0, 100, func(sub int64) string { return id + "/" + itoa(sub) })
	if err != nil {
		t.Fatalf("plan deliveries: %v", err)
	}
	out := map[int64]bool{}
	for _, p := range planned {
		out[p.SubscriberID] = true
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestFanOutNeedsInstallation: an event goes only to the subscribers of extensions that
// its company has installed, and only to those whose installation and association admit
// its application.
func TestFanOutNeedsInstallation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		installed := mustSubscriber(t, s, "org-a", slug, nil)
		uninstalled := mustSubscriber(t, s, "org-b", slug, nil)
		list, err := s.ListInstallations(ctx, store.InstallationFilter{OrganizationID: "org-b"})
		if err != nil || len(list) != 1 {
			t.Fatalf("org-b's installations: %v %v", list, err)
		}
		if _, _, err := s.DeleteInstallation(ctx, list[0].ID); err != nil {
			t.Fatalf("uninstall: %v", err)
		}
		if got := plannedSubscribers(t, s, "e1", slug, ""); !got[installed.ID] || got[uninstalled.ID] {
			t.Errorf("planned %v; want %d (installed) and not %d (uninstalled)", got, installed.ID, uninstalled.ID)
		}

		// Application limits: the installation's and the subscriber's.
		if err := s.CreateInstallation(ctx, &models.Installation{OrganizationID: "org-c", ExtensionID: "ext", CompanyID: 1,
			ApplicationIDs: models.IDList{"app-1"}}); err != nil {
			t.Fatalf("install org-c: %v", err)
		}
		limitedInstall := mustSubscriber(t, s, "org-c", slug, nil)
		limitedSub := mustSubscriber(t, s, "org-a", slug, func(sub *models.Subscriber) { sub.ApplicationIDs = models.IDList{"app-2", "app_3"} })
		for _, tc := range []struct {
			app  string
			want map[int64]bool
		}{
			{"", map[int64]bool{installed.ID: true, limitedInstall.ID: true, limitedSub.ID: true}},
			{"app-1", map[int64]bool{installed.ID: true, limitedInstall.ID: true}},
			{"app-2", map[int64]bool{installed.ID: true, limitedSub.ID: true}},
			{"appX3", map[int64]bool{installed.ID: true}},       // _ is no wildcard
			{"app-2,app_3", map[int64]bool{installed.ID: true}}, // a comma matches no member
		} {
			got := plannedSubscribers(t, s, "app-event-"+strings.ReplaceAll(tc.app, ",", "-"), slug, tc.app)
			if len(got) != len(tc.want) {
				t.Errorf("application %q: planned %v, want %v", tc.app, got, tc.want)
				continue
			}
			for id := range tc.want {
				if !got[id] {
					t.Errorf("application %q: planned %v, want %v", tc.app, got, tc.want)
				}
			}
		}
	})
}

// TestCreateSubscriberNeedsInstallation: the store refuses a subscriber whose company has
// not installed its extension, with EFORBIDDEN.
func TestCreateSubscriberNeedsInstallation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.MustOpen(t, db.URL)
		sub := &models.Subscriber{OrganizationID: "org", ExtensionID: "ext", CompanyID: 5, Name: "n", WebhookURL: "https://example.com/",
			Status: models.StatusActive, InactivePolicy: models.PolicyQueue, Secret: "s3cret-value",
			Events: []models.SubscriberEvent{{Slug: "company/product/create/v1"}}}
		if err := s.CreateSubscriber(context.Background(), sub); models.ErrorCode(err) != models.EFORBIDDEN {
			t.Fatalf("create without installation: %v, want %s", err, models.EFORBIDDEN)
		}
	})
}

// rawDB opens the test database with GORM directly, to shape it as an older release left it.
func rawDB(t *testing.T, db storetest.Database) *gorm.DB {
	t.Helper()
	var (
		g   *gorm.DB
		err error
	)
	if path, ok := strings.CutPrefix(db.URL, "sqlite:"); ok {
		g, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: "sqlite", DSN: "file:" + path + "?_pragma=busy_timeout(10000)"}), &gorm.Config{})
	} else {
		g, err = gorm.Open(postgres.Open(db.URL), &gorm.Config{})
	}
	if err != nil {
		t.Fatalf("open raw database: %v", err)
	}
	t.Cleanup(func() {
		if d, err := g.DB(); err == nil {
			_ = d.Close()
		}
	})
	return g
}

// TestMigrateCreatesInstallationsOfExistingSubscribers: upgrading a database from before
// installations gives every (organization, extension, company) with a live subscriber
// one installation, so that its subscribers keep receiving events, and makes ingest keys
// platform keys; running Migrate again changes nothing, and does not bring back an
// installation removed since.
func TestMigrateCreatesInstallationsOfExistingSubscribers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		const slug = "company/product/create/v1"
		old := storetest.MustOpen(t, db.URL)
		a1 := mustSubscriber(t, old, "org-a", slug, nil)
		mustSubscriber(t, old, "org-a", slug, nil) // the same tenant and company again
		b2 := mustSubscriber(t, old, "org-b", slug, func(sub *models.Subscriber) { sub.CompanyID = 2 })
		gone := mustSubscriber(t, old, "org-gone", slug, nil)
		if err := old.DeleteSubscriber(ctx, models.Tenant{OrganizationID: "org-gone", ExtensionID: "ext"}, 1, gone.ID); err != nil {
			t.Fatalf("delete subscriber: %v", err)
		}
		key := &models.APIKey{OrganizationID: "org-p", Scope: models.ScopePlatform}
		if _, err := old.CreateAPIKey(ctx, key); err != nil {
			t.Fatalf("create key: %v", err)
		}
		_ = old.Close()

		// What the release before installations had: no installations, no record of data
		// migrations, no application or company lists, ingest keys.
		raw := rawDB(t, db)
		for _, stmt := range []string{
			"DROP TABLE installations", "DROP TABLE schema_migrations",
			"ALTER TABLE subscribers DROP COLUMN application_ids", "ALTER TABLE api_keys DROP COLUMN company_ids",
			"UPDATE api_keys SET scope = 'ingest'",
		} {
			if err := raw.Exec(stmt).Error; err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}

		s := storetest.MustOpen(t, db.URL) // migrates
		list, err := s.ListInstallations(ctx, store.InstallationFilter{})
		if err != nil {
			t.Fatalf("list installations: %v", err)
		}
		got := map[string]int64{}
		for _, in := range list {
			got[in.OrganizationID+"/"+in.ExtensionID+"/"+itoa(in.CompanyID)] = in.ID
		}
		if len(list) != 2 || got["org-a/ext/1"] == 0 || got["org-b/ext/2"] == 0 {
			t.Fatalf("installations after the upgrade: %+v; want one of org-a/ext on 1 and one of org-b/ext on 2", list)
		}
		if p := plannedSubscribers(t, s, "after-upgrade", slug, ""); !p[a1.ID] {
			t.Errorf("subscriber %d does not receive events after the upgrade: planned %v", a1.ID, p)
		}
		var scope string
		if err := raw.Raw("SELECT scope FROM api_keys WHERE id = ?", key.ID).Scan(&scope).Error; err != nil || scope != models.ScopePlatform {
			t.Errorf("the ingest key's scope after the upgrade: %q %v, want platform", scope, err)
		}

		if _, _, err := s.DeleteInstallation(ctx, got["org-b/ext/2"]); err != nil {
			t.Fatalf("uninstall: %v", err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
		again, err := s.ListInstallations(ctx, store.InstallationFilter{})
		if err != nil || len(again) != 1 || again[0].ID != got["org-a/ext/1"] {
			t.Errorf("installations after a second Migrate: %+v %v; want only org-a's (org-b's was removed on purpose; subscriber %d)", again, err, b2.ID)
		}
	})
}
