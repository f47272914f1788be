package models

// Tenant scopes partner resources: an organization and one of its extensions.
type Tenant struct {
	OrganizationID string
	ExtensionID    string
}
