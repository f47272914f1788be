package models

import (
	"strconv"
	"time"
)

// API key scopes.
const (
	ScopePartner = "partner" // manage the organization's subscribers, filters, reports
	// ScopePlatform is a platform service's key: it sends events for every company and
	// manages installations.
	ScopePlatform = "platform"
	// ScopeCompany is a key that sends events only for its companies (CompanyIDs).
	ScopeCompany = "company"
	// ScopeIngest is what platform keys were called before company keys existed. Creating
	// a key with it makes a platform key (a company key when it names companies); stored
	// ingest keys became platform keys when the database was migrated.
	ScopeIngest = "ingest"
)

// APIKey authenticates a partner or a producer. Only a hash of the key is stored; the
// key itself is shown once, when it is created.
type APIKey struct {
	ID             int64  `gorm:"primaryKey"`
	OrganizationID string `gorm:"size:64;not null;index"`
	ExtensionID    string `gorm:"size:64"`
	Name           string `gorm:"size:255"`
	Scope          string `gorm:"size:16;not null"`
	// CompanyIDs are the companies a company key may send events for (decimal ids).
	CompanyIDs IDList    `gorm:"size:2048;not null;default:''"`
	Prefix     string    `gorm:"size:32;not null;uniqueIndex"`
	Hash       string    `gorm:"size:64;not null"`
	CreatedAt  time.Time `gorm:"not null"`
	RevokedAt  *time.Time
}

// Companies returns the key's company ids as numbers.
func (k *APIKey) Companies() []int64 {
	out := make([]int64, 0, len(k.CompanyIDs))
	for _, c := range k.CompanyIDs {
		if id, err := strconv.ParseInt(c, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// Principal is who a request acts as.
type Principal struct {
	Admin          bool   // the deployment's admin token: reaches everything
	KeyID          int64  // the API key, when not admin
	OrganizationID string // the key's organization
	ExtensionID    string // the key's extension, empty for any extension of the organization
	Scope          string
	CompanyIDs     []int64 // a company key's companies
}

// CanAccess reports whether p may act on resources of organization org and extension ext.
func (p Principal) CanAccess(org, ext string) bool {
	if p.Admin {
		return true
	}
	if p.Scope != ScopePartner || p.OrganizationID != org {
		return false
	}
	return p.ExtensionID == "" || p.ExtensionID == ext
}

// Ingests reports whether p may send events at all (for some company).
func (p Principal) Ingests() bool {
	return p.Admin || p.Scope == ScopePlatform || p.Scope == ScopeCompany
}

// CanIngest reports whether p may send events for company.
func (p Principal) CanIngest(company int64) bool {
	switch {
	case p.Admin, p.Scope == ScopePlatform:
		return true
	case p.Scope == ScopeCompany:
		for _, c := range p.CompanyIDs {
			if c == company {
				return true
			}
		}
	}
	return false
}

// Platform reports whether p acts for the platform: the admin token or a platform key,
// which manage installations.
func (p Principal) Platform() bool {
	return p.Admin || p.Scope == ScopePlatform
}
