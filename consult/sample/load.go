package sample

import (
	"context"
	"fmt"
	"sync"

	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
)

// Actor is the actor name Load writes under.
const Actor = "sample"

// BookingSchedules is what Load needs from booking.
type BookingSchedules interface {
	PutSchedule(ctx context.Context, actor string, s booking.Schedule) (booking.Schedule, error)
}

// scheduleWorkers bounds concurrent PutSchedule calls, so that their
// commits share fsyncs without flooding the writer.
const scheduleWorkers = 8

// Load writes d into a node: the facilities and health workers through
// dir (all or nothing each, validated as an administrator's input), then
// each schedule through bk (skipped when bk is nil). d must have been
// generated for dir's province. Loading the same data again updates it in
// place.
func Load(ctx context.Context, dir *directory.Service, bk BookingSchedules, d Data) error {
	if dir.Province() != d.Province.Code {
		return fmt.Errorf("sample: data of province %s cannot load into the directory of %s", d.Province.Code, dir.Province())
	}
	if _, err := dir.ImportFacilities(ctx, Actor, d.Facilities); err != nil {
		return fmt.Errorf("sample: facilities: %w", err)
	}
	if _, err := dir.ImportPractitioners(ctx, Actor, d.Practitioners); err != nil {
		return fmt.Errorf("sample: health workers: %w", err)
	}
	if bk == nil {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan booking.Schedule)
	var wg sync.WaitGroup
	for range min(scheduleWorkers, len(d.Schedules)) {
		wg.Go(func() {
			for s := range work {
				if _, err := bk.PutSchedule(ctx, Actor, s); err != nil {
					cancel(fmt.Errorf("sample: schedule of %s: %w", s.Facility, err))
				}
			}
		})
	}
feed:
	for _, s := range d.Schedules {
		select {
		case work <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}
