package models

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
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

// ValidateAPIKey checks the fields of a key to create. It turns scope ingest into
// platform, or into company when the key names companies.
func ValidateAPIKey(k *APIKey) error {
	var v Validation
	if strings.TrimSpace(k.OrganizationID) == "" {
		v.Add("organization_id", "is required")
	} else if len(k.OrganizationID) > 64 {
		v.Add("organization_id", "must be at most 64 characters")
	}
	if len(k.ExtensionID) > 64 {
		v.Add("extension_id", "must be at most 64 characters")
	}
	if len(k.Name) > MaxNameLength {
		v.Add("name", "must be at most %d characters", MaxNameLength)
	}
	if k.Scope == ScopeIngest {
		k.Scope = ScopePlatform
		if len(k.CompanyIDs) > 0 {
			k.Scope = ScopeCompany
		}
	}
	switch k.Scope {
	case ScopePartner, ScopePlatform:
		if len(k.CompanyIDs) > 0 {
			v.Add("company_ids", "only a key of scope company sends for chosen companies")
		}
	case ScopeCompany:
		if len(k.CompanyIDs) == 0 {
			v.Add("company_ids", "a key of scope company needs at least one company")
		}
	default:
		v.Add("scope", "must be partner, platform or company (ingest is taken for platform)")
	}
	if len(k.CompanyIDs) > MaxApplicationIDs {
		v.Add("company_ids", "at most %d companies", MaxApplicationIDs)
	}
	for i, c := range k.CompanyIDs {
		if id, err := strconv.ParseInt(c, 10, 64); err != nil || id <= 0 || strconv.FormatInt(id, 10) != c {
			v.Add(fieldIndex("company_ids", i), "must be a positive integer")
		}
	}
	return v.Err()
}

// CompanyIDList turns company ids into the list an APIKey keeps.
func CompanyIDList(ids []int64) IDList {
	out := make(IDList, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return out
}

// MaskedKey is how a stored key is shown: its prefix and a mask.
func (k *APIKey) MaskedKey() string { return k.Prefix + "_********" }

// APIKeyHash is the hash under which a key is stored.
func APIKeyHash(key string) string { return hashKey(key) }

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
