package federation

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// offlineNode is a Federation that is never started, as the CLI uses it.
func offlineNode(t *testing.T, tn *testNet, role charter.Role, province string) (*Federation, *storage.DB, Config) {
	t.Helper()
	key, id := testKey(t)
	cert, err := charter.Admit(tn.ch, tn.auth, id, province, "Offline "+province, role, time.Hour)
	require.NoError(t, err)
	db, err := storage.Open(filepath.Join(t.TempDir(), "node.db"), &storage.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	cfg := Config{Key: key, Charter: tn.ch, Certificate: cert, DB: db}
	f, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f, db, cfg
}

func update(t *testing.T, db *storage.DB, fn func(*storage.Tx) error) error {
	t.Helper()
	return db.Update(context.Background(), fn)
}

func TestStageVersionsAndRules(t *testing.T) {
	tn := newTestNet(t)
	f, db, cfg := offlineNode(t, tn, charter.RoleProvince, "66")

	for i := 1; i <= 3; i++ {
		require.NoError(t, update(t, db, func(tx *storage.Tx) error {
			return f.Stage(tx, KindFacility, "66-tram-1", []byte(`{"v":1}`), false)
		}))
		r, ok, err := f.Record(f.PeerID(), KindFacility, "66-tram-1")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, uint64(i), r.Version)
	}

	// A rolled-back transaction does not use up a version.
	boom := errors.New("boom")
	err := update(t, db, func(tx *storage.Tx) error {
		if err := f.Stage(tx, KindAvailability, "66", []byte(`{}`), false); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, ok, err := f.Record(f.PeerID(), KindAvailability, "66")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, update(t, db, func(tx *storage.Tx) error {
		return f.Stage(tx, KindAvailability, "66", []byte(`{}`), false)
	}))
	r, _, _ := f.Record(f.PeerID(), KindAvailability, "66")
	assert.Equal(t, uint64(4), r.Version)

	cases := []struct {
		name    string
		kind    string
		key     string
		payload []byte
		want    error
	}{
		{"other province", KindFacility, "79-x", nil, ErrBadKey},
		{"prefix without dash", KindFacility, "667", nil, ErrBadKey},
		{"empty key", KindStats, "", nil, ErrBadKey},
		{"membership kind", KindMember, "x", nil, ErrBadKind},
		{"unknown kind", "referral", "66-x", nil, ErrBadKind},
		{"too large", KindStats, "daily", make([]byte, MaxPayload+1), ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := update(t, db, func(tx *storage.Tx) error { return f.Stage(tx, tc.kind, tc.key, tc.payload, false) })
			assert.ErrorIs(t, err, tc.want)
		})
	}

	// A tombstone is stored, and Records skips it.
	require.NoError(t, update(t, db, func(tx *storage.Tx) error {
		return f.Stage(tx, KindFacility, "66-tram-2", nil, true)
	}))
	var keys []string
	require.NoError(t, f.Records(KindFacility, func(r Record) error { keys = append(keys, r.Key); return nil }))
	assert.Equal(t, []string{"66-tram-1"}, keys)

	// The counter survives a reload, and an offline leave sticks.
	require.NoError(t, update(t, db, f.StageLeave))
	require.NoError(t, f.Close())
	f2, err := New(cfg)
	require.NoError(t, err)
	defer f2.Close()
	err = update(t, db, func(tx *storage.Tx) error { return f2.Stage(tx, KindStats, "daily", nil, false) })
	assert.ErrorIs(t, err, ErrLeft)
	var st originState
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		var err error
		st, err = getOrigin(tx, f2.PeerID())
		return err
	}))
	assert.Equal(t, uint64(6), st.Max)
	assert.Equal(t, st.Max, st.Synced)
}

func TestObserverWritesNothing(t *testing.T) {
	tn := newTestNet(t)
	f, db, _ := offlineNode(t, tn, charter.RoleObserver, "BYT")
	assert.True(t, f.Observer())
	err := update(t, db, func(tx *storage.Tx) error { return f.Stage(tx, KindStats, "daily", nil, false) })
	assert.ErrorIs(t, err, ErrObserver)
	rev, err := charter.Revoke(tn.ch, tn.auth, f.PeerID(), "")
	require.NoError(t, err)
	assert.ErrorIs(t, f.Revoke(context.Background(), rev), ErrObserver)
}

func TestNewChecksConfig(t *testing.T) {
	tn := newTestNet(t)
	other := newTestNet(t)
	key, id := testKey(t)
	db, err := storage.Open(filepath.Join(t.TempDir(), "node.db"), nil)
	require.NoError(t, err)
	defer db.Close()
	cert, err := charter.Admit(tn.ch, tn.auth, id, "66", "x", charter.RoleProvince, time.Hour)
	require.NoError(t, err)
	foreign, err := charter.Admit(other.ch, other.auth, id, "66", "x", charter.RoleProvince, time.Hour)
	require.NoError(t, err)
	key2, _ := testKey(t)

	cases := map[string]Config{
		"no key":        {Charter: tn.ch, Certificate: cert, DB: db},
		"no db":         {Key: key, Charter: tn.ch, Certificate: cert},
		"foreign cert":  {Key: key, Charter: tn.ch, Certificate: foreign, DB: db},
		"someone else":  {Key: key2, Charter: tn.ch, Certificate: cert, DB: db},
		"no charter":    {Key: key, Certificate: cert, DB: db},
		"bad bootstrap": {Key: key, Charter: tn.ch, Certificate: cert, DB: db, Bootstrap: []string{"/ip4/127.0.0.1/tcp/1"}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := New(cfg)
			if err == nil {
				err = f.Start(context.Background())
				f.Close()
			}
			assert.ErrorIs(t, err, ErrConfig)
		})
	}
}
