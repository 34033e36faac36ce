package sample

import (
	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
)

// HorizonDays is how far ahead sample schedules take bookings.
const HorizonDays = 60

// Holidays returns the Vietnamese public holidays of 2026 and 2027
// (YYYY-MM-DD) on which sample facilities take no bookings: New Year's
// Day, Tết Nguyên Đán (the government's announced break for 2026; the
// usual 29 Tết to mùng 5 for 2027), Hùng Kings' Commemoration (10/3 of
// the lunar calendar) with its Monday in lieu in 2026, Reunification Day
// and Labour Day (30/4, 1/5, with a Monday in lieu when 1/5 falls on a
// Saturday), and National Day (2/9 with the adjoining day).
func Holidays() []string {
	return []string{
		"2026-01-01",
		"2026-02-14", "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18",
		"2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22",
		"2026-04-26", "2026-04-27",
		"2026-04-30", "2026-05-01",
		"2026-09-01", "2026-09-02",
		"2027-01-01",
		"2027-02-04", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08",
		"2027-02-09", "2027-02-10",
		"2027-04-16",
		"2027-04-30", "2027-05-01", "2027-05-03",
		"2027-09-02", "2027-09-03",
	}
}

func hours(days []string, periods ...booking.Interval) map[string][]booking.Interval {
	m := make(map[string][]booking.Interval, len(days))
	for _, d := range days {
		m[d] = append([]booking.Interval(nil), periods...)
	}
	return m
}

// schedule is the booking calendar of a facility: commune stations and
// polyclinics open Monday to Saturday, 07:00–11:30 and 13:30–17:00, in
// 15-minute slots for 2 to 4 residents; hospitals and health centres
// open longer (and on Sunday mornings) and see more residents per slot.
func (g *gen) schedule(f *directory.Facility) booking.Schedule {
	weekdays := []string{"mon", "tue", "wed", "thu", "fri", "sat"}
	sc := booking.Schedule{Facility: f.ID, Closed: Holidays(), HorizonDays: HorizonDays}
	switch f.Level {
	case consult.ProvincialHospital, consult.CentralHospital, consult.DistrictHospital:
		sc.SlotMinutes, sc.Capacity = 10, 6+g.rng.IntN(7)
		sc.Hours = hours(weekdays, booking.Interval{Open: "06:30", Close: "11:30"}, booking.Interval{Open: "13:00", Close: "16:30"})
		sc.Hours["sun"] = []booking.Interval{{Open: "07:00", Close: "11:00"}}
	case consult.HealthCentre:
		sc.SlotMinutes, sc.Capacity = 15, 4+g.rng.IntN(5)
		sc.Hours = hours(weekdays, booking.Interval{Open: "07:00", Close: "11:30"}, booking.Interval{Open: "13:30", Close: "17:00"})
		sc.Hours["sun"] = []booking.Interval{{Open: "07:00", Close: "11:00"}}
	default:
		capacity := 2 + g.rng.IntN(3)
		if f.Level == consult.RegionalPolyclinic {
			capacity++
		}
		sc.SlotMinutes, sc.Capacity = 15, capacity
		sc.Hours = hours(weekdays, booking.Interval{Open: "07:00", Close: "11:30"}, booking.Interval{Open: "13:30", Close: "17:00"})
	}
	return sc
}
