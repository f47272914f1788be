// Package storetest gives tests real databases: a fresh SQLite file always, and a fresh
// PostgreSQL schema too when HOOKFLOW_TEST_DATABASE_URL names a PostgreSQL server.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// EnvDatabaseURL names the PostgreSQL server tests also run against.
const EnvDatabaseURL = "HOOKFLOW_TEST_DATABASE_URL"

// Database is a database a test can run against.
type Database struct {
	Name string // "sqlite" or "postgres", for subtest names
	URL  string // for store.Open
}

// Databases returns a new empty SQLite database, and a new empty PostgreSQL schema when
// HOOKFLOW_TEST_DATABASE_URL is set. Both are removed when the test ends.
func Databases(tb testing.TB) []Database {
	tb.Helper()
	dbs := []Database{{Name: "sqlite", URL: "sqlite:" + filepath.Join(tb.TempDir(), "hookflow.db")}}
	if base := os.Getenv(EnvDatabaseURL); base != "" {
		dbs = append(dbs, Database{Name: "postgres", URL: NewPostgresSchema(tb, base)})
	}
	return dbs
}

// NewPostgresSchema creates a schema on the server at base and returns a URL whose
// search_path is that schema; the schema is dropped when the test ends.
func NewPostgresSchema(tb testing.TB, base string) string {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvDatabaseURL, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "hf_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvDatabaseURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// MustOpen opens and migrates the database at dsn, closing it when the test ends.
func MustOpen(tb testing.TB, dsn string) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), dsn, nil)
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return s
}

// ForEach runs fn as a subtest once per database of Databases.
func ForEach(t *testing.T, fn func(t *testing.T, db Database)) {
	t.Helper()
	for _, db := range Databases(t) {
		t.Run(db.Name, func(t *testing.T) { fn(t, db) })
	}
}

// MustInstall installs extension ext of organization org on company, as the platform does
// before the extension's subscribers there can exist; an installation that exists
// already is kept.
func MustInstall(tb testing.TB, s *store.Store, org, ext string, company int64) {
	tb.Helper()
	err := s.CreateInstallation(context.Background(), &models.Installation{OrganizationID: org, ExtensionID: ext, CompanyID: company})
	if err != nil && models.ErrorCode(err) != models.ECONFLICT {
		tb.Fatalf("install %s/%s on company %d: %v", org, ext, company, err)
	}
}
