package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/hookflow/hookflow/models"
)

// keyPrefix starts every API key, so that leaked keys are easy to recognise and scan for.
const keyPrefix = "hfk_"

// CreateAPIKey stores a new key for k's organization and scope and returns the key
// itself, which is not stored and cannot be shown again. It sets k.ID, Prefix, CreatedAt.
func (s *Store) CreateAPIKey(ctx context.Context, k *models.APIKey) (string, error) {
	if err := models.ValidateAPIKey(k); err != nil {
		return "", err
	}
	var idBytes [6]byte
	var secret [24]byte
	if _, err := rand.Read(idBytes[:]); err != nil {
		return "", models.Internal(err, "generate key")
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", models.Internal(err, "generate key")
	}
	k.ID = 0
	k.Prefix = keyPrefix + hex.EncodeToString(idBytes[:])
	key := k.Prefix + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	k.Hash = models.APIKeyHash(key)
	k.CreatedAt = s.Now()
	k.RevokedAt = nil
	if err := s.db.WithContext(ctx).Create(k).Error; err != nil {
		return "", dbError(err, "")
	}
	return key, nil
}

// Authenticate returns the principal of an API key. Returns EUNAUTHORIZED when the key is
// malformed, unknown or revoked. The comparison takes the same time whatever the key.
func (s *Store) Authenticate(ctx context.Context, key string) (models.Principal, error) {
	bad := &models.Error{Code: models.EUNAUTHORIZED, Message: "invalid or revoked API key"}
	if !strings.HasPrefix(key, keyPrefix) || len(key) > 200 {
		return models.Principal{}, bad
	}
	prefix, _, ok := strings.Cut(key[len(keyPrefix):], "_")
	if !ok || len(prefix) != 12 {
		return models.Principal{}, bad
	}
	var k models.APIKey
	err := s.rdb.WithContext(ctx).Where("prefix = ?", keyPrefix+prefix).Take(&k).Error
	if err != nil {
		if models.ErrorCode(dbError(err, "")) == models.ENOTFOUND {
			return models.Principal{}, bad
		}
		return models.Principal{}, dbError(err, "")
	}
	if subtle.ConstantTimeCompare([]byte(models.APIKeyHash(key)), []byte(k.Hash)) != 1 || k.RevokedAt != nil {
		return models.Principal{}, bad
	}
	return models.Principal{KeyID: k.ID, OrganizationID: k.OrganizationID, ExtensionID: k.ExtensionID, Scope: k.Scope,
		CompanyIDs: k.Companies()}, nil
}

// ListAPIKeys returns the keys of an organization (all keys when org is empty), newest
// first, revoked ones included.
func (s *Store) ListAPIKeys(ctx context.Context, org string) ([]models.APIKey, error) {
	q := s.rdb.WithContext(ctx).Order("id DESC")
	if org != "" {
		q = q.Where("organization_id = ?", org)
	}
	var keys []models.APIKey
	if err := q.Find(&keys).Error; err != nil {
		return nil, dbError(err, "")
	}
	return keys, nil
}

// RevokeAPIKey revokes a key; requests with it answer 401 from then on. Returns ENOTFOUND.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Model(&models.APIKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.Now())
	if res.Error != nil {
		return dbError(res.Error, "")
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := s.db.WithContext(ctx).Model(&models.APIKey{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return dbError(err, "")
		}
		if n == 0 {
			return &models.Error{Code: models.ENOTFOUND, Message: fmt.Sprintf("API key %d not found", id)}
		}
	}
	return nil
}

// ActiveAPIKeyHashes returns the hashes of every key that is not revoked.
func (s *Store) ActiveAPIKeyHashes(ctx context.Context) ([]string, error) {
	var hashes []string
	if err := s.rdb.WithContext(ctx).Model(&models.APIKey{}).Where("revoked_at IS NULL").Pluck("hash", &hashes).Error; err != nil {
		return nil, dbError(err, "")
	}
	return hashes, nil
}
