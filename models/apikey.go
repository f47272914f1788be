package models

import "time"

// API key scopes.
const (
	ScopePartner = "partner" // manage the organization's subscribers, filters, reports
	ScopeIngest  = "ingest"  // send events
)

// APIKey authenticates a partner or a producer. Only a hash of the key is stored; the
// key itself is shown once, when it is created.
type APIKey struct {
	ID             int64     `gorm:"primaryKey"`
	OrganizationID string    `gorm:"size:64;not null;index"`
	ExtensionID    string    `gorm:"size:64"`
	Name           string    `gorm:"size:255"`
	Scope          string    `gorm:"size:16;not null"`
	Prefix         string    `gorm:"size:32;not null;uniqueIndex"`
	Hash           string    `gorm:"size:64;not null"`
	CreatedAt      time.Time `gorm:"not null"`
	RevokedAt      *time.Time
}

// Principal is who a request acts as.
type Principal struct {
	Admin          bool   // the deployment's admin token: reaches everything
	KeyID          int64  // the API key, when not admin
	OrganizationID string // the key's organization
	ExtensionID    string // the key's extension, empty for any extension of the organization
	Scope          string
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

// CanIngest reports whether p may send events.
func (p Principal) CanIngest() bool {
	return p.Admin || p.Scope == ScopeIngest
}
