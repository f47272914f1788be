package devserver

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// Postgres places the server's two stores on PostgreSQL.
type Postgres struct {
	// URL names the server and the executions database, e.g.
	// postgres://temporal:secret@db:5432/temporal?sslmode=require. The database is created
	// when missing (through the server's "postgres" database), and its schema set up or
	// brought up to date.
	URL string
	// VisibilityDatabase is the visibility store's database on the same server (default:
	// the executions database's name + "_visibility").
	VisibilityDatabase string
	// MaxConns and MaxIdleConns size the executions store's pool, VisibilityMaxConns the
	// visibility store's. Each of the server's four services (frontend, history, matching,
	// worker) opens a pool of each store, so one process holds up to
	// 4 × (MaxConns + VisibilityMaxConns) connections.
	MaxConns, MaxIdleConns, VisibilityMaxConns int
}

// PostgresConns is the most connections a server with these pools holds (see Postgres).
func (p Postgres) PostgresConns() int { return 4 * (p.MaxConns + p.VisibilityMaxConns) }

// postgresLockKey is the advisory lock a server holds on its executions database for as
// long as it runs: one server per database, so that the membership rows a dead
// predecessor left can be cleared at start (see forgetMembers).
const postgresLockKey = 0x686f6f6b666c6f77 // "hookflow"

// postgresStores returns the two stores' configurations, creating the databases and
// bringing their schema up to date, and the connection that holds the server's lock.
func postgresStores(ctx context.Context, p Postgres, logger log.Logger) (execution, visibility *config.SQL, lock *pgx.Conn, err error) {
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, nil, nil, fmt.Errorf("temporal database URL must be postgres://user:password@host:port/database (got %q)", redact(p.URL))
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	if dbName == "" {
		dbName = "temporal"
	}
	visName := p.VisibilityDatabase
	if visName == "" {
		visName = dbName + "_visibility"
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5432")
	}
	password, _ := u.User.Password()
	attrs := map[string]string{}
	for k, v := range u.Query() {
		attrs[k] = v[len(v)-1]
	}
	sqlConfig := func(name string, maxConns, maxIdle int) *config.SQL {
		return &config.SQL{
			PluginName: pgplugin.PluginNamePGX, DatabaseName: name, ConnectAddr: host, ConnectProtocol: "tcp",
			User: u.User.Username(), Password: password, ConnectAttributes: attrs,
			MaxConns: maxConns, MaxIdleConns: maxIdle, MaxConnLifetime: time.Hour,
		}
	}
	execution = sqlConfig(dbName, p.MaxConns, p.MaxIdleConns)
	visibility = sqlConfig(visName, p.VisibilityMaxConns, p.VisibilityMaxConns)
	for _, s := range []struct {
		conf   *config.SQL
		schema string
	}{{execution, "postgresql/v12/temporal"}, {visibility, "postgresql/v12/visibility"}} {
		if err := setupPostgresSchema(s.conf, s.schema, logger); err != nil {
			return nil, nil, nil, fmt.Errorf("temporal database %s: %w", s.conf.DatabaseName, err)
		}
	}
	if lock, err = lockPostgres(ctx, u, dbName); err != nil {
		return nil, nil, nil, err
	}
	return execution, visibility, lock, nil
}

// setupPostgresSchema creates the database when missing, then applies the schema
// versions it lacks from the server's embedded schema, as `temporal-sql-tool
// setup-schema -v 0.0` and `update-schema` do. Concurrent runs are serialized by an
// advisory lock on the server's "postgres" database.
func setupPostgresSchema(conf *config.SQL, schemaName string, logger log.Logger) error {
	admin := *conf
	admin.DatabaseName, admin.MaxConns, admin.MaxIdleConns = "postgres", 1, 1
	conn, err := sqltool.NewConnection(&admin, logger)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	// A session lock on a one-connection pool: the setup below runs on other
	// connections, so the lock is held across them.
	if err := conn.Exec("SELECT pg_advisory_lock($1)", postgresLockKey+1); err != nil {
		return fmt.Errorf("lock schema setup: %w", err)
	}
	defer func() { _ = conn.Exec("SELECT pg_advisory_unlock($1)", postgresLockKey+1) }()
	if err := conn.CreateDatabase(conf.DatabaseName); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	db, err := sqltool.NewConnection(conf, logger)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer db.Close()
	if _, err := db.ReadSchemaVersion(); err != nil {
		// No version table yet: a new database.
		if err := schema.NewSetupSchemaTask(db, &schema.SetupConfig{InitialVersion: "0.0"}, logger).Run(); err != nil {
			return fmt.Errorf("set up schema: %w", err)
		}
	}
	if err := schema.NewUpdateSchemaTask(db, &schema.UpdateConfig{DBName: conf.DatabaseName, SchemaName: schemaName}, logger).Run(); err != nil {
		return fmt.Errorf("update schema: %w", err)
	}
	return nil
}

// lockPostgres takes the executions database's server lock on a connection of its own,
// held until the connection closes (Stop, or the process's death), and clears the
// membership rows predecessors left.
func lockPostgres(ctx context.Context, u *url.URL, dbName string) (*pgx.Conn, error) {
	lu := *u
	lu.Path = "/" + dbName
	conn, err := pgx.Connect(ctx, lu.String())
	if err != nil {
		return nil, fmt.Errorf("connect to temporal database %s: %w", dbName, err)
	}
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", postgresLockKey).Scan(&locked); err != nil {
		_ = conn.Close(ctx)
		return nil, fmt.Errorf("lock temporal database %s: %w", dbName, err)
	}
	if !locked {
		_ = conn.Close(ctx)
		return nil, fmt.Errorf("another hookflow temporal serves database %s: run one per database", dbName)
	}
	// Every recorded member is a dead predecessor: left in place, the new server would
	// try to join them and not route tasks between its own services until they expire.
	if _, err := conn.Exec(ctx, "DELETE FROM cluster_membership"); err != nil {
		_ = conn.Close(ctx)
		return nil, fmt.Errorf("reset temporal cluster membership in %s: %w", dbName, err)
	}
	return conn, nil
}

// redact hides a URL's password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
