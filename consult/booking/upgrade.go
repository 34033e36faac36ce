package booking

import (
	"context"
	"fmt"
	"strings"

	"github.com/moinha/moinha/storage"
)

// layoutKey in BucketSettings records the booking key layout of the file.
const (
	layoutKey     = "booking/layout"
	currentLayout = 2
)

// Upgrade brings the file's booking indexes to the current layout (doc.go)
// in one transaction, and is a no-op once they are. node calls it when it
// opens the data file, before serving. Layout 1 kept desk keys as
// facility/local day/start/ID and seat counters in BucketSlotUse; layout 2
// drops the day from desk keys and moves the counters beside them.
func (s *Service) Upgrade(ctx context.Context) error {
	err := s.db.Update(ctx, func(tx *storage.Tx) error {
		v, _, err := tx.GetInt(storage.BucketSettings, layoutKey)
		if err != nil || v >= currentLayout {
			return err
		}
		type move struct{ from, to string }
		var desk []move
		err = tx.Scan(storage.BucketApptByDay, "", "", func(k string, _ storage.Value) error {
			switch parts := strings.Split(k, "/"); len(parts) {
			case 4: // layout 1: facility/day/start/ID
				desk = append(desk, move{k, parts[0] + "/" + parts[2] + "/" + parts[3]})
			case 2, 3: // layout 2 already (a file this binary wrote before its first Upgrade)
			default:
				return fmt.Errorf("appt_by_day key %q is not a booking index key", k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, m := range desk {
			var id string
			if _, err := tx.Get(storage.BucketApptByDay, m.from, &id); err != nil {
				return err
			}
			if err := tx.Delete(storage.BucketApptByDay, m.from); err != nil {
				return err
			}
			if err := tx.Put(storage.BucketApptByDay, m.to, id); err != nil {
				return err
			}
		}
		var slots []string
		if err := tx.Scan(storage.BucketSlotUse, "", "", func(k string, _ storage.Value) error {
			slots = append(slots, k)
			return nil
		}); err != nil {
			return err
		}
		for _, k := range slots {
			n, _, err := tx.GetInt(storage.BucketSlotUse, k)
			if err != nil {
				return err
			}
			if err := tx.PutInt(storage.BucketApptByDay, k, n); err != nil {
				return err
			}
			if err := tx.Delete(storage.BucketSlotUse, k); err != nil {
				return err
			}
		}
		return tx.PutInt(storage.BucketSettings, layoutKey, currentLayout)
	})
	if err != nil {
		return fmt.Errorf("booking: upgrade the key layout: %w", err)
	}
	return nil
}
