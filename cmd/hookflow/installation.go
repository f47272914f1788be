package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// runInstallation manages installations directly in the database, as the platform does
// when a company installs or removes an extension.
func runInstallation(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	const help = "usage: hookflow installation create --organization <id> --extension <id> --company <id> [--applications <id,id>]\n" +
		"       hookflow installation list [--organization <id>] [--extension <id>] [--company <id>]\n" +
		"       hookflow installation delete <id>"
	sub, fs, db, args, err := databaseSubcommand("installation", help, args, stderr, getenv)
	if err != nil {
		return err
	}
	org := fs.String("organization", "", "organization id")
	ext := fs.String("extension", "", "extension id")
	company := fs.Int64("company", 0, "company id")
	apps := fs.String("applications", "", "comma-separated application ids the installation is limited to (empty: every application)")
	st, err := db.open(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		in := &models.Installation{OrganizationID: *org, ExtensionID: *ext, CompanyID: *company}
		if *apps != "" {
			in.ApplicationIDs = strings.Split(*apps, ",")
		}
		if err := st.CreateInstallation(ctx, in); err != nil {
			return usageError{errors.New(models.ErrorMessage(err))}
		}
		fmt.Fprintf(stdout, "installation %d: company %d has installed extension %s of organization %s\n", in.ID, in.CompanyID, in.ExtensionID, in.OrganizationID)
		return nil
	case "list":
		list, err := st.ListInstallations(ctx, store.InstallationFilter{CompanyID: *company, OrganizationID: *org, ExtensionID: *ext})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCOMPANY\tORGANIZATION\tEXTENSION\tAPPLICATIONS\tCREATED")
		for _, in := range list {
			applications := strings.Join(in.ApplicationIDs, ",")
			if applications == "" {
				applications = "all"
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", in.ID, in.CompanyID, in.OrganizationID, in.ExtensionID, applications, in.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "delete":
		if fs.NArg() != 1 {
			return usageError{errors.New("usage: hookflow installation delete <id>")}
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return usageError{fmt.Errorf("installation id %q is not a number", fs.Arg(0))}
		}
		in, queued, err := st.DeleteInstallation(ctx, id)
		if err != nil {
			return errors.New(models.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "extension %s of organization %s uninstalled from company %d\n", in.ExtensionID, in.OrganizationID, in.CompanyID)
		if len(queued) > 0 {
			// This command reaches only the database: the queued deliveries' workflows
			// wake, and discard themselves, when their subscriber is next released.
			fmt.Fprintf(stdout, "%d subscribers have queued deliveries: they go out to nobody and are discarded when released "+
				"(DELETE /service/platform/webhook/v1.0/installation/%d through the API discards them at once)\n", len(queued), id)
		}
		return nil
	}
	fmt.Fprintln(stderr, help)
	return usageError{fmt.Errorf("unknown installation subcommand %q", sub)}
}
