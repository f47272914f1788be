package models

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"
)

// Installation says that a company has installed an extension of an organization: the
// extension's subscribers receive that company's events only while it exists (Fynd's
// subscriber association). ApplicationIDs, when not empty, limits it to the events of
// those applications (sales channels) of the company; events without an application
// (company-level events such as company/product/create) still go to every installation.
type Installation struct {
	ID             int64  `gorm:"primaryKey"`
	CompanyID      int64  `gorm:"not null;uniqueIndex:idx_installations_company_ext,priority:1"`
	OrganizationID string `gorm:"size:64;not null;uniqueIndex:idx_installations_company_ext,priority:2;index:idx_installations_org_ext,priority:1"`
	ExtensionID    string `gorm:"size:64;not null;uniqueIndex:idx_installations_company_ext,priority:3;index:idx_installations_org_ext,priority:2"`
	ApplicationIDs IDList `gorm:"size:2048;not null;default:''"`
	CreatedAt      time.Time
}

// Limits on installations and associations.
const (
	MaxApplicationIDs      = 50
	maxApplicationIDLength = 64
)

// ValidateInstallation checks the fields of an installation to create.
func ValidateInstallation(in *Installation) error {
	var v Validation
	if in.CompanyID <= 0 {
		v.Add("company_id", "must be a positive integer")
	}
	validateTenantID(&v, "organization_id", in.OrganizationID)
	validateTenantID(&v, "extension_id", in.ExtensionID)
	validateApplicationIDs(&v, "application_id", in.ApplicationIDs)
	return v.Err()
}

func validateTenantID(v *Validation, field, id string) {
	switch {
	case strings.TrimSpace(id) == "":
		v.Add(field, "is required")
	case len(id) > 64:
		v.Add(field, "must be at most 64 characters")
	case strings.ContainsAny(id, "/?#%\x00"):
		v.Add(field, "must not contain / ? # %% or NUL")
	}
}

// validateApplicationIDs checks a list of application ids: each is 1 to 64 characters
// from [A-Za-z0-9._~-] (which keeps the stored form's commas unambiguous), listed once.
func validateApplicationIDs(v *Validation, field string, ids IDList) {
	if len(ids) > MaxApplicationIDs {
		v.Add(field, "at most %d application ids", MaxApplicationIDs)
		return
	}
	seen := map[string]bool{}
	for i, id := range ids {
		f := fieldIndex(field, i)
		if len(id) > maxApplicationIDLength || ValidateEventID(id) != nil {
			v.Add(f, "must be 1 to %d characters from letters, digits and . _ ~ -", maxApplicationIDLength)
			continue
		}
		if seen[id] {
			v.Add(f, "%s is listed twice", id)
		}
		seen[id] = true
	}
}

// IDList is a list of ids kept in one text column as ",a,b," ("" for none): a member is
// found with LIKE '%,id,%' inside the fan-out's single query, with no join table.
type IDList []string

// Value implements driver.Valuer.
func (l IDList) Value() (driver.Value, error) {
	if len(l) == 0 {
		return "", nil
	}
	return "," + strings.Join(l, ",") + ",", nil
}

// Scan implements sql.Scanner.
func (l *IDList) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("scan id list from %T", src)
	}
	*l = nil
	if s = strings.Trim(s, ","); s != "" {
		*l = strings.Split(s, ",")
	}
	return nil
}

// Contains reports whether id is in l.
func (l IDList) Contains(id string) bool {
	for _, x := range l {
		if x == id {
			return true
		}
	}
	return false
}

// Association criteria (Fynd's): every application of the company, or only the listed
// ones.
const (
	CriteriaAll      = "ALL"
	CriteriaSpecific = "SPECIFIC-EVENTS"
)

// Criteria names how the subscriber's application ids limit its events.
func (s *Subscriber) Criteria() string {
	if len(s.ApplicationIDs) == 0 {
		return CriteriaAll
	}
	return CriteriaSpecific
}

// UninstalledReason is the last_error of a delivery discarded because its extension was
// uninstalled from the event's company.
func UninstalledReason(ext string, company int64) string {
	return fmt.Sprintf("extension %s was uninstalled from company %d", ext, company)
}
