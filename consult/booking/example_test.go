package booking_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/storage"
)

func ExampleService_Book() {
	dir, _ := os.MkdirTemp("", "booking-example")
	defer os.RemoveAll(dir)
	db, err := storage.Open(filepath.Join(dir, "db"), nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	hcm, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	now := time.Date(2030, 3, 4, 6, 0, 0, 0, hcm)
	svc := booking.New(db, zones{"66-TYT001": hcm}, booking.Options{Now: func() time.Time { return now }})
	ctx := context.Background()

	morning := []booking.Interval{{Open: "07:00", Close: "11:30"}}
	_, err = svc.PutSchedule(ctx, "admin", booking.Schedule{
		Facility: "66-TYT001", SlotMinutes: 30, Capacity: 2,
		Hours: map[string][]booking.Interval{"mon": morning, "tue": morning},
	})
	if err != nil {
		panic(err)
	}
	slots, _ := svc.Slots("66-TYT001", "2030-03-05")
	fmt.Println(len(slots), "slots from", slots[0].Start.Format(time.RFC3339))

	a, err := svc.Book(ctx, "resident", booking.BookRequest{
		Facility: "66-TYT001", Start: slots[0].Start, Name: "Nguyễn Thị Lan", Phone: "0912 345 678",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Status, a.Start.Format(time.RFC3339), len(a.Code))

	slots, _ = svc.Slots("66-TYT001", "2030-03-05")
	fmt.Println("free at 07:00:", slots[0].Free)

	desk, _ := svc.Desk(ctx, "staff", "66-TYT001", "2030-03-05")
	fmt.Println("on the desk:", len(desk))
	// Output:
	// 9 slots from 2030-03-05T07:00:00+07:00
	// booked 2030-03-05T07:00:00+07:00 15
	// free at 07:00: 1
	// on the desk: 1
}
