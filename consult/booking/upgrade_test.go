package booking_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// TestUpgradeFromLayout1: a file whose booking indexes have the first
// layout (desk keys with the local day, counters in their own bucket) is
// rewritten by Upgrade, after which desks, counters and capacity are what
// they were; a second Upgrade changes nothing.
func TestUpgradeFromLayout1(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))
	f.schedule(t, stationSchedule(stationB))
	slots := []time.Time{f.local(2030, 3, 5, 7, 0), f.local(2030, 3, 5, 9, 30), f.local(2030, 3, 7, 7, 0)}
	for _, st := range slots {
		for _, fac := range []string{stationA, stationB} {
			_, err := f.book(fac, st)
			require.NoError(t, err)
		}
	}
	_, err := f.book(stationA, slots[0])
	require.NoError(t, err)
	type view struct {
		desks  map[string][]string
		counts []int
	}
	look := func() view {
		v := view{desks: map[string][]string{}}
		for _, fac := range []string{stationA, stationB} {
			for _, day := range []string{"2030-03-05", "2030-03-07"} {
				desk, err := f.svc.Desk(f.ctx, "staff", fac, day)
				require.NoError(t, err)
				for _, a := range desk {
					v.desks[fac+day] = append(v.desks[fac+day], a.ID)
				}
			}
			for _, st := range slots {
				v.counts = append(v.counts, f.slotCount(t, fac, st))
			}
		}
		return v
	}
	before := look()
	assert.Equal(t, []int{2, 1, 1, 1, 1, 1}, before.counts)

	// Rewrite the indexes as the first layout had them.
	require.NoError(t, f.db.Update(f.ctx, func(tx *storage.Tx) error {
		var keys []string
		if err := tx.Scan(storage.BucketApptByDay, "", "", func(k string, _ storage.Value) error {
			keys = append(keys, k)
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			parts := strings.Split(k, "/")
			start, err := time.Parse(time.RFC3339, parts[1])
			require.NoError(t, err)
			if len(parts) == 2 {
				n, _, err := tx.GetInt(storage.BucketApptByDay, k)
				require.NoError(t, err)
				require.NoError(t, tx.PutInt(storage.BucketSlotUse, k, n))
			} else {
				var id string
				_, err := tx.Get(storage.BucketApptByDay, k, &id)
				require.NoError(t, err)
				day := start.In(f.hcm).Format("2006-01-02")
				require.NoError(t, tx.Put(storage.BucketApptByDay, parts[0]+"/"+day+"/"+parts[1]+"/"+parts[2], id))
			}
			require.NoError(t, tx.Delete(storage.BucketApptByDay, k))
		}
		return nil
	}))

	require.NoError(t, f.svc.Upgrade(f.ctx))
	assert.Equal(t, before, look(), "desks and counters as before")
	var legacy int
	require.NoError(t, f.db.View(func(tx *storage.Tx) error {
		legacy, err = tx.Count(storage.BucketSlotUse, "")
		return err
	}))
	assert.Zero(t, legacy, "the old counter bucket is emptied")

	// Capacity still holds on the moved counters (stationSchedule: 3 seats,
	// 2 taken).
	_, err = f.book(stationA, slots[0])
	require.NoError(t, err)
	_, err = f.book(stationA, slots[0])
	requireCode(t, err, consult.ErrConflict, "slot_full")

	snap := func() (out []string) {
		require.NoError(t, f.db.View(func(tx *storage.Tx) error {
			return tx.Scan(storage.BucketApptByDay, "", "", func(k string, _ storage.Value) error {
				out = append(out, k)
				return nil
			})
		}))
		return out
	}
	keys := snap()
	require.NoError(t, f.svc.Upgrade(f.ctx))
	assert.Equal(t, keys, snap(), "a second Upgrade changes nothing")
}
