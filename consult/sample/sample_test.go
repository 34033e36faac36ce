package sample_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/sample"
	"github.com/moinha/moinha/storage"
)

func TestProvinces(t *testing.T) {
	ps := sample.Provinces()
	require.Len(t, ps, 34, "34 provinces and centrally-run cities after the 2025 merger")
	codes := map[string]bool{}
	names := map[string]bool{}
	for i, p := range ps {
		assert.Regexp(t, `^\d\d$`, p.Code)
		assert.False(t, codes[p.Code], "duplicate code %s", p.Code)
		assert.False(t, names[p.Name], "duplicate name %s", p.Name)
		codes[p.Code], names[p.Name] = true, true
		if i > 0 {
			assert.Less(t, ps[i-1].Code, p.Code, "code order")
		}
		assert.NotEmpty(t, p.NameEN)
		assert.InDelta(t, 16, p.Lat, 8, p.Name)
		assert.InDelta(t, 106, p.Lon, 4, p.Name)
		got, ok := sample.ProvinceByCode(p.Code)
		assert.True(t, ok)
		assert.Equal(t, p, got)
	}
	for code, name := range map[string]string{"01": "Hà Nội", "46": "Huế", "66": "Đắk Lắk", "79": "TP. Hồ Chí Minh",
		"92": "Cần Thơ", "08": "Tuyên Quang", "96": "Cà Mau"} {
		p, ok := sample.ProvinceByCode(code)
		require.True(t, ok, code)
		assert.Equal(t, name, p.Name)
	}
	_, ok := sample.ProvinceByCode("02") // Hà Giang, merged into Tuyên Quang
	assert.False(t, ok)

	// Callers get a copy: changing it changes nothing.
	ps[0].Name = "changed"
	assert.Equal(t, "Hà Nội", sample.Provinces()[0].Name)
}

func TestDeterministic(t *testing.T) {
	a := sample.Province("66", 42, sample.Small)
	b := sample.Province("66", 42, sample.Small)
	assert.Equal(t, a, b)
	c := sample.Province("66", 43, sample.Small)
	assert.NotEqual(t, a.Practitioners, c.Practitioners, "another seed, other people")
	d := sample.Province("79", 42, sample.Small)
	assert.NotEqual(t, a.Practitioners[0].Name+a.Practitioners[1].Name, d.Practitioners[0].Name+d.Practitioners[1].Name)
}

func TestSmall(t *testing.T) {
	d := sample.Province("66", 1, sample.Small)
	assert.Equal(t, "Đắk Lắk", d.Province.Name)
	levels := map[consult.Level]int{}
	for _, f := range d.Facilities {
		levels[f.Level]++
	}
	assert.Equal(t, map[consult.Level]int{consult.ProvincialHospital: 1, consult.HealthCentre: 2, consult.CommuneHealthStation: 12}, levels)
	assert.InDelta(t, 60, len(d.Practitioners), 15)
	assert.Len(t, d.Schedules, len(d.Facilities))
	assert.Equal(t, "Bệnh viện Đa khoa tỉnh Đắk Lắk", d.Facilities[0].Name)

	station := regexp.MustCompile(`^Trạm Y tế (xã|phường) \p{Lu}`)
	for _, f := range d.Facilities {
		switch f.Level {
		case consult.CommuneHealthStation:
			assert.Regexp(t, station, f.Name)
		case consult.HealthCentre:
			assert.True(t, strings.HasPrefix(f.Name, "Trung tâm Y tế khu vực "), f.Name)
		}
	}
	// Vietnamese names with their diacritics.
	diacritics := 0
	for _, p := range d.Practitioners {
		if strings.ContainsAny(p.Name, "ễầăếạảịọốồờởợụừữýĐđ") {
			diacritics++
		}
		assert.GreaterOrEqual(t, len(strings.Fields(p.Name)), 2, p.Name)
	}
	assert.Greater(t, diacritics, len(d.Practitioners)/2)

	// Unknown codes still work.
	x := sample.Province("H01", 1, sample.Small)
	assert.Len(t, x.Facilities, 15)
	assert.Equal(t, "H01-BVDK", x.Facilities[0].ID)
}

func TestFull(t *testing.T) {
	for _, code := range []string{"66", "01", "11"} {
		d := sample.Province(code, 7, sample.Full)
		assert.InDelta(t, 500, len(d.Facilities), 10, code)
		assert.InDelta(t, 5000, len(d.Practitioners), 500, code)
		assert.Len(t, d.Schedules, len(d.Facilities))
		ids := map[string]bool{}
		names := map[string]bool{}
		for _, f := range d.Facilities {
			assert.False(t, ids[f.ID], "duplicate facility %s", f.ID)
			assert.False(t, names[f.Name], "duplicate facility name %s", f.Name)
			ids[f.ID], names[f.Name] = true, true
		}
		for _, p := range d.Practitioners {
			assert.False(t, ids[p.ID], "duplicate practitioner %s", p.ID)
			ids[p.ID] = true
		}
	}
}

func TestSchedules(t *testing.T) {
	d := sample.Province("66", 1, sample.Small)
	hm := regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
	byID := map[string]directory.Facility{}
	for _, f := range d.Facilities {
		byID[f.ID] = f
	}
	for _, s := range d.Schedules {
		f, ok := byID[s.Facility]
		require.True(t, ok)
		assert.Equal(t, sample.HorizonDays, s.HorizonDays)
		assert.Contains(t, s.Closed, "2026-02-17", "mùng 1 Tết Bính Ngọ")
		assert.Contains(t, s.Closed, "2026-09-02")
		assert.Contains(t, s.Closed, "2027-02-06", "mùng 1 Tết Đinh Mùi")
		for day, ivs := range s.Hours {
			assert.Contains(t, []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, day)
			for _, iv := range ivs {
				assert.Regexp(t, hm, iv.Open)
				assert.Regexp(t, hm, iv.Close)
				assert.Less(t, iv.Open, iv.Close)
			}
		}
		if f.Level == consult.CommuneHealthStation {
			assert.Equal(t, 15, s.SlotMinutes)
			assert.GreaterOrEqual(t, s.Capacity, 2)
			assert.LessOrEqual(t, s.Capacity, 4)
			assert.Equal(t, []booking.Interval{{Open: "07:00", Close: "11:30"}, {Open: "13:30", Close: "17:00"}}, s.Hours["mon"])
			assert.NotEmpty(t, s.Hours["sat"])
			assert.Empty(t, s.Hours["sun"])
		} else {
			assert.NotEmpty(t, s.Hours["sun"], "hospitals and centres open longer")
		}
	}
}

// schedules records PutSchedule calls, as the booking service would take them.
type schedules struct {
	mu   sync.Mutex // guards got
	got  map[string]booking.Schedule
	fail string // facility whose schedule is refused
}

func (s *schedules) PutSchedule(ctx context.Context, actor string, sc booking.Schedule) (booking.Schedule, error) {
	if err := ctx.Err(); err != nil {
		return booking.Schedule{}, err
	}
	if sc.Facility == s.fail {
		return booking.Schedule{}, errors.New("refused")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[sc.Facility] = sc
	return sc, nil
}

func openDirectory(t *testing.T, province string) *directory.Service {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "node.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return directory.New(db, province, nil)
}

func TestLoadSmallPassesValidation(t *testing.T) {
	ctx := context.Background()
	for _, p := range sample.Provinces() {
		t.Run(p.Code, func(t *testing.T) {
			d := sample.Province(p.Code, 2026, sample.Small)
			dir := openDirectory(t, p.Code)
			bk := &schedules{got: map[string]booking.Schedule{}}
			require.NoError(t, sample.Load(ctx, dir, bk, d))

			fs, ps, err := dir.Counts(p.Code)
			require.NoError(t, err)
			assert.Equal(t, len(d.Facilities), fs)
			assert.Equal(t, len(d.Practitioners), ps)
			assert.Len(t, bk.got, len(d.Schedules))

			// What was stored is what was generated, apart from the time stamp.
			for _, want := range d.Practitioners[:5] {
				got, err := dir.GetPractitioner(want.ID)
				require.NoError(t, err)
				want.Updated = got.Updated
				assert.Equal(t, want, got)
			}
			for _, f := range d.Facilities {
				_, err := dir.BookableFacility(f.ID)
				assert.NoError(t, err)
			}
		})
	}
}

func TestLoadFull(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 5,000 health workers")
	}
	d := sample.Province("66", 1, sample.Full)
	dir := openDirectory(t, "66")
	require.NoError(t, sample.Load(context.Background(), dir, nil, d))
	fs, ps, err := dir.Counts("66")
	require.NoError(t, err)
	assert.Equal(t, len(d.Facilities), fs)
	assert.Equal(t, len(d.Practitioners), ps)
	found, _, err := dir.ListFacilities(directory.FacilityFilter{Q: "dak lak"}, 0, "")
	require.NoError(t, err)
	assert.NotEmpty(t, found)
}

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	d := sample.Province("66", 1, sample.Small)
	err := sample.Load(ctx, openDirectory(t, "79"), nil, d)
	assert.Error(t, err, "data of another province")

	bk := &schedules{got: map[string]booking.Schedule{}, fail: d.Facilities[3].ID}
	err = sample.Load(ctx, openDirectory(t, "66"), bk, d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), d.Facilities[3].ID)
}

// The generated schedules pass the real booking service's validation.
func TestLoadIntoBooking(t *testing.T) {
	db, err := storage.Open(filepath.Join(t.TempDir(), "node.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	dir := directory.New(db, "46", nil)
	bk := booking.New(db, dir, booking.Options{})
	d := sample.Province("46", 3, sample.Small)
	require.NoError(t, sample.Load(context.Background(), dir, bk, d))
	for _, want := range d.Schedules {
		got, err := bk.GetSchedule(want.Facility)
		require.NoError(t, err)
		assert.Equal(t, want.SlotMinutes, got.SlotMinutes)
		assert.Equal(t, want.Capacity, got.Capacity)
		assert.Len(t, got.Closed, len(sample.Holidays()))
	}
}
