package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/worker"
	"github.com/hookflow/hookflow/workflows"
)

// runMigrate creates or updates the schema, seeds the event catalogue, creates the
// Temporal namespace when it is missing and registers the search attributes. It is the
// one preparation step of a production deployment; it may run again, and several at
// once, each run changing only what is missing. Each step prints one line.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := loadConfig("migrate", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	st, err := store.OpenPool(ctx, cfg.DatabaseURL, log, cfg.DBPool)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database schema is up to date (%s)\n", st.Dialect())
	c, err := dialTemporal(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	ns, err := worker.EnsureNamespace(ctx, c, cfg.TemporalNamespace, cfg.NamespaceRetention)
	if err != nil {
		return err
	}
	if ns.Created {
		fmt.Fprintf(stdout, "temporal namespace %s created (retention %v)\n", ns.Name, ns.Retention)
	} else {
		fmt.Fprintf(stdout, "temporal namespace %s exists (retention %v)\n", ns.Name, ns.Retention)
		if cfg.NamespaceRetentionSet && ns.Retention != cfg.NamespaceRetention {
			// migrate does not change a namespace it did not create: its retention may
			// have been chosen by whoever runs the cluster.
			fmt.Fprintf(stdout, "  the configured retention %v is not applied to an existing namespace; to change it: temporal operator namespace update --namespace %s --retention %v\n",
				cfg.NamespaceRetention, ns.Name, cfg.NamespaceRetention)
		}
	}
	if err := worker.RegisterSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "temporal search attributes are registered (namespace %s)\n", cfg.TemporalNamespace)
	state, err := worker.EnsurePurgeSchedule(ctx, c, cfg.PurgeInterval)
	if err != nil {
		return err
	}
	// The retention windows are the workers' settings: each run applies those of the
	// worker that takes it.
	fmt.Fprintf(stdout, "temporal schedule %s %s (purge every %v)\n", workflows.PurgeScheduleID, state, cfg.PurgeInterval)
	return nil
}

// runEmit sends one event through the API and prints the answer.
func runEmit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("hookflow emit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	apiURL := fs.String("api", envOr(getenv, "HOOKFLOW_API_URL", "http://127.0.0.1:8080"), "API base URL (env HOOKFLOW_API_URL)")
	token := fs.String("token", envOr(getenv, "HOOKFLOW_API_KEY", getenv("HOOKFLOW_ADMIN_TOKEN")), "admin token or ingest API key (env HOOKFLOW_API_KEY or HOOKFLOW_ADMIN_TOKEN)")
	company := fs.Int64("company", 0, "company id (required)")
	slug := fs.String("slug", "", "event slug, e.g. company/product/create/v1 (required)")
	id := fs.String("id", "", "event id, the idempotency key (generated when empty)")
	app := fs.String("application-id", "", "application id (optional)")
	file := fs.String("file", "-", "payload JSON file; - reads standard input")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	var missing []string
	if *company <= 0 {
		missing = append(missing, "--company")
	}
	if *slug == "" {
		missing = append(missing, "--slug")
	}
	if *token == "" {
		missing = append(missing, "--token (or HOOKFLOW_ADMIN_TOKEN)")
	}
	if len(missing) > 0 {
		return usageError{fmt.Errorf("missing %s", strings.Join(missing, ", "))}
	}
	var payload []byte
	var err error
	if *file == "-" {
		payload, err = io.ReadAll(io.LimitReader(stdin, 2<<20))
	} else {
		payload, err = os.ReadFile(*file)
	}
	if err != nil {
		return fmt.Errorf("read payload: %w", err)
	}
	body, err := json.Marshal(map[string]any{
		"id": *id, "event_slug": *slug, "application_id": *app, "payload": json.RawMessage(bytes.TrimSpace(payload)),
	})
	if err != nil {
		return fmt.Errorf("payload is not valid JSON: %w", err)
	}
	url := strings.TrimRight(*apiURL, "/") + "/service/platform/webhook/v1.0/company/" + strconv.FormatInt(*company, 10) + "/events"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+*token)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("send event: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintln(stdout, strings.TrimSpace(string(answer)))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("the API answered %s", resp.Status)
	}
	return nil
}

// runAPIKey manages API keys directly in the database.
func runAPIKey(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	const help = "usage: hookflow apikey create --organization <id> [--extension <id>] [--name <name>] [--scope partner|platform|company] [--companies <id,id>]\n" +
		"       hookflow apikey list [--organization <id>]\n       hookflow apikey revoke <id>"
	sub, fs, db, args, err := databaseSubcommand("apikey", help, args, stderr, getenv)
	if err != nil {
		return err
	}
	org := fs.String("organization", "", "organization id")
	ext := fs.String("extension", "", "extension id (empty: every extension of the organization)")
	name := fs.String("name", "", "a name to recognise the key by")
	scope := fs.String("scope", models.ScopePartner, "partner (manage webhooks), platform (send events for every company, manage installations) or company (send events for --companies); ingest is taken for platform")
	companies := fs.String("companies", "", "comma-separated company ids a company key sends events for")
	st, err := db.open(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		k := &models.APIKey{OrganizationID: *org, ExtensionID: *ext, Name: *name, Scope: *scope}
		if *companies != "" {
			k.CompanyIDs = strings.Split(*companies, ",")
		}
		key, err := st.CreateAPIKey(ctx, k)
		if err != nil {
			return usageError{errors.New(models.ErrorMessage(err))}
		}
		fmt.Fprintf(stdout, "%s\n\nid %d, organization %s, scope %s. The key is shown only now; keep it safe.\n", key, k.ID, k.OrganizationID, k.Scope)
		return nil
	case "list":
		keys, err := st.ListAPIKeys(ctx, *org)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKEY\tORGANIZATION\tEXTENSION\tSCOPE\tNAME\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.MaskedKey(), k.OrganizationID, k.ExtensionID, k.Scope, k.Name, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return usageError{errors.New("usage: hookflow apikey revoke <id>")}
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return usageError{fmt.Errorf("key id %q is not a number", fs.Arg(0))}
		}
		if err := st.RevokeAPIKey(ctx, id); err != nil {
			return errors.New(models.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "API key %d revoked\n", id)
		return nil
	}
	fmt.Fprintln(stderr, help)
	return usageError{fmt.Errorf("unknown apikey subcommand %q", sub)}
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// databaseFlags are the flags naming the application database of a command that works on
// it directly (apikey, installation).
type databaseFlags struct{ url, dataDir *string }

// databaseSubcommand starts a subcommand of command that works on the database: without
// one it shows help; else it returns the subcommand, its flag set with the database flags,
// and the arguments after it.
func databaseSubcommand(command, help string, args []string, stderr io.Writer, getenv func(string) string) (string, *flag.FlagSet, databaseFlags, []string, error) {
	if len(args) == 0 {
		fmt.Fprintln(stderr, help)
		return "", nil, databaseFlags{}, nil, usageError{errors.New(command + " needs a subcommand")}
	}
	fs := flag.NewFlagSet("hookflow "+command+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	return args[0], fs, addDatabaseFlags(fs, getenv), args[1:], nil
}

func addDatabaseFlags(fs *flag.FlagSet, getenv func(string) string) databaseFlags {
	return databaseFlags{
		url:     fs.String("database-url", getenv("HOOKFLOW_DATABASE_URL"), "application database URL (env HOOKFLOW_DATABASE_URL; default: the dev database under --data-dir)"),
		dataDir: fs.String("data-dir", envOr(getenv, "HOOKFLOW_DATA_DIR", ".hookflow"), "dev data directory"),
	}
}

// open parses args into fs and opens the database they name, migrated.
func (d databaseFlags) open(ctx context.Context, fs *flag.FlagSet, args []string) (*store.Store, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	url := *d.url
	if url == "" {
		url = "sqlite:" + filepath.Join(*d.dataDir, "hookflow.db")
	}
	st, err := store.Open(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
