package apiserver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/models"
)

// knownKeysTTL is how long a snapshot of the active keys serves: a key created by
// another process (the CLI, another API replica) passes a locked-out address's check
// at most this long after its creation.
const knownKeysTTL = 10 * time.Second

// knownKeys is a snapshot of the hashes of the active API keys. It lets an address that
// has used up its failed-authentication budget still authenticate with a valid key,
// without letting its guesses reach the database: a token whose hash is not in the
// snapshot is refused on the spot, one whose hash is goes through the usual lookup,
// which stays the authority (a key revoked since the snapshot is refused there).
type knownKeys struct {
	load func(ctx context.Context) ([]string, error)
	now  func() time.Time

	snap       atomic.Pointer[keySnapshot]
	refreshing sync.Mutex // held by the one request that reloads a stale snapshot
}

type keySnapshot struct {
	hashes map[string]struct{}
	loaded time.Time
}

// contains reports whether key is, as far as the snapshot knows, an active key. A stale
// snapshot is reloaded by one request while the others use the stale one.
func (k *knownKeys) contains(ctx context.Context, key string) bool {
	snap := k.snap.Load()
	switch {
	case snap == nil:
		// Nothing to answer from yet: wait for the one load.
		k.refreshing.Lock()
		if snap = k.snap.Load(); snap == nil {
			snap = k.reload(ctx, nil)
		}
		k.refreshing.Unlock()
	case k.now().Sub(snap.loaded) > knownKeysTTL:
		if k.refreshing.TryLock() {
			snap = k.reload(ctx, snap)
			k.refreshing.Unlock()
		}
	}
	if snap == nil {
		return false
	}
	_, ok := snap.hashes[models.APIKeyHash(key)]
	return ok
}

func (k *knownKeys) reload(ctx context.Context, old *keySnapshot) *keySnapshot {
	hashes, err := k.load(ctx)
	if err != nil {
		// The database is down: keep refusing what the old snapshot does not know;
		// the next request retries.
		return old
	}
	snap := &keySnapshot{hashes: make(map[string]struct{}, len(hashes)), loaded: k.now()}
	for _, h := range hashes {
		snap.hashes[h] = struct{}{}
	}
	k.snap.Store(snap)
	return snap
}

// invalidate makes the next check reload, after a key was created here.
func (k *knownKeys) invalidate() { k.snap.Store(nil) }
