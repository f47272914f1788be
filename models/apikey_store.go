package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// keyPrefix starts every API key, so that leaked keys are easy to recognise and scan for.
const keyPrefix = "hfk_"

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

// CreateAPIKey stores a new key for k's organization and scope and returns the key
// itself, which is not stored and cannot be shown again. It sets k.ID, Prefix, CreatedAt.
func (s *Store) CreateAPIKey(ctx context.Context, k *APIKey) (string, error) {
	if err := ValidateAPIKey(k); err != nil {
		return "", err
	}
	var idBytes [6]byte
	var secret [24]byte
	if _, err := rand.Read(idBytes[:]); err != nil {
		return "", Internal(err, "generate key")
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", Internal(err, "generate key")
	}
	k.ID = 0
	k.Prefix = keyPrefix + hex.EncodeToString(idBytes[:])
	key := k.Prefix + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	k.Hash = hashKey(key)
	k.CreatedAt = s.Now()
	k.RevokedAt = nil
	if err := s.db.WithContext(ctx).Create(k).Error; err != nil {
		return "", dbError(err, "")
	}
	return key, nil
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the principal of an API key. Returns EUNAUTHORIZED when the key is
// malformed, unknown or revoked. The comparison takes the same time whatever the key.
func (s *Store) Authenticate(ctx context.Context, key string) (Principal, error) {
	bad := &Error{Code: EUNAUTHORIZED, Message: "invalid or revoked API key"}
	if !strings.HasPrefix(key, keyPrefix) || len(key) > 200 {
		return Principal{}, bad
	}
	prefix, _, ok := strings.Cut(key[len(keyPrefix):], "_")
	if !ok || len(prefix) != 12 {
		return Principal{}, bad
	}
	var k APIKey
	err := s.rdb.WithContext(ctx).Where("prefix = ?", keyPrefix+prefix).Take(&k).Error
	if err != nil {
		if ErrorCode(dbError(err, "")) == ENOTFOUND {
			return Principal{}, bad
		}
		return Principal{}, dbError(err, "")
	}
	if subtle.ConstantTimeCompare([]byte(hashKey(key)), []byte(k.Hash)) != 1 || k.RevokedAt != nil {
		return Principal{}, bad
	}
	return Principal{KeyID: k.ID, OrganizationID: k.OrganizationID, ExtensionID: k.ExtensionID, Scope: k.Scope,
		CompanyIDs: k.Companies()}, nil
}

// ListAPIKeys returns the keys of an organization (all keys when org is empty), newest
// first, revoked ones included.
func (s *Store) ListAPIKeys(ctx context.Context, org string) ([]APIKey, error) {
	q := s.rdb.WithContext(ctx).Order("id DESC")
	if org != "" {
		q = q.Where("organization_id = ?", org)
	}
	var keys []APIKey
	if err := q.Find(&keys).Error; err != nil {
		return nil, dbError(err, "")
	}
	return keys, nil
}

// RevokeAPIKey revokes a key; requests with it answer 401 from then on. Returns ENOTFOUND.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Model(&APIKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.Now())
	if res.Error != nil {
		return dbError(res.Error, "")
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := s.db.WithContext(ctx).Model(&APIKey{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return dbError(err, "")
		}
		if n == 0 {
			return &Error{Code: ENOTFOUND, Message: fmt.Sprintf("API key %d not found", id)}
		}
	}
	return nil
}

// MaskedKey is how a stored key is shown: its prefix and a mask.
func (k *APIKey) MaskedKey() string { return k.Prefix + "_********" }

// APIKeyHash is the hash under which a key is stored.
func APIKeyHash(key string) string { return hashKey(key) }

// ActiveAPIKeyHashes returns the hashes of every key that is not revoked.
func (s *Store) ActiveAPIKeyHashes(ctx context.Context) ([]string, error) {
	var hashes []string
	if err := s.rdb.WithContext(ctx).Model(&APIKey{}).Where("revoked_at IS NULL").Pluck("hash", &hashes).Error; err != nil {
		return nil, dbError(err, "")
	}
	return hashes, nil
}
