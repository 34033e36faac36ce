package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
)

// fuzzDecode feeds arbitrary bodies and content types to decode into a T.
// It must not panic; a refusal must be a user-facing *consult.Error that
// the node renders as a 4xx with API.md's error shape.
func fuzzDecode[T any](f *testing.F, limit int64, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{}`), "")
	f.Add([]byte(`{}`), "text/plain")
	f.Add([]byte(`{} {}`), "application/json; charset=utf-8")
	f.Add([]byte(`{"a":1}`), "application/json")
	f.Add([]byte(`[]`), "application/json")
	f.Add([]byte(`null`), "application/json")
	f.Add(bytes.Repeat([]byte(`[`), 10000), "application/json")
	n := &Node{log: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/x", bytes.NewReader(body))
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		w := httptest.NewRecorder()
		var dst T
		err := decode(w, r, limit, &dst)
		if err == nil {
			return
		}
		var ce *consult.Error
		if !errors.As(err, &ce) || ce.Code == "" || ce.Message == "" {
			t.Fatalf("decode refused with a non-user error %T: %v", err, err)
		}
		n.fail(w, r, err)
		if w.Code < 400 || w.Code > 499 {
			t.Fatalf("status %d for %v", w.Code, err)
		}
		var e apiError
		dec := json.NewDecoder(w.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || e.Error.Code != ce.Code {
			t.Fatalf("error body %q: %v", w.Body.String(), err)
		}
	})
}

func FuzzDecodeBookRequest(f *testing.F) {
	fuzzDecode[booking.BookRequest](f, 16<<10,
		`{"facility":"66-TYT001","start":"2030-03-04T08:00:00+07:00","name":"Nguyễn Thị Lan","phone":"0912345678","reason":"khám thai"}`,
		`{"facility":"66-TYT001","start":12}`,
		`{"start":"2030-03-04T08:00:00"}`,
		`{"birth_year":"1990"}`,
		`{"facility":"\ud800"}`)
}

func FuzzDecodeLoginRequest(f *testing.F) {
	fuzzDecode[loginRequest](f, 4<<10, `{"username":"admin","password":"một mật khẩu dài"}`, `{"username":1}`)
}

func FuzzDecodeSchedule(f *testing.F) {
	fuzzDecode[booking.Schedule](f, 1<<20,
		`{"slot_minutes":30,"capacity":3,"hours":{"mon":[{"open":"07:30","close":"11:30"}]},"closed":["2030-09-02"]}`,
		`{"capacity":"three"}`, `{"hours":{"mon":{"open":"07:30"}}}`, `{"updated":"yesterday"}`)
}

func FuzzDecodeFacility(f *testing.F) {
	fuzzDecode[directory.Facility](f, 1<<20,
		`{"code":"TYT01","name":"Trạm Y tế","level":"commune_health_station","specialties":["paediatrics"],"geo":{"lat":12.7,"lon":108.1}}`,
		`{"geo":{"lat":"north"}}`, `{"specialties":"paediatrics"}`)
}

func FuzzDecodePractitioner(f *testing.F) {
	fuzzDecode[directory.Practitioner](f, 1<<20, `{"name":"BS. Lan","role":"doctor","facility":"66-BVT","languages":["vi"]}`)
}

func FuzzDecodeAddUser(f *testing.F) {
	fuzzDecode[addUserRequest](f, 8<<10, `{"username":"lan","password":"0123456789","role":"staff","facility":"66-TYT01"}`, `{"role":7}`)
}

func FuzzDecodeReschedule(f *testing.F) {
	fuzzDecode[rescheduleRequest](f, 4<<10, `{"start":"2030-03-04T08:30:00+07:00"}`, `{"start":null}`, `{"start":"2030-02-30T08:30:00Z"}`)
}

// FuzzBookHandler sends arbitrary bodies through the node's whole HTTP
// stack (middleware, decode, booking validation, storage) on a real data
// file with one facility. Any answer must be 201 or a 4xx with the error
// shape; never a 5xx or a panic.
func FuzzBookHandler(f *testing.F) {
	dir := f.TempDir()
	ctx := context.Background()
	if _, err := Init(ctx, InitOptions{DataDir: dir, Province: "66", Name: "Đắk Lắk"}); err != nil {
		f.Fatal(err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		f.Fatal(err)
	}
	cfg.NoSync = true // durability is not what this fuzzes
	cfg.Logger = slog.New(slog.DiscardHandler)
	n, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = n.Close() })
	if _, err := n.dir.PutFacility(ctx, "test", directory.Facility{Code: "TYT001", Name: "Trạm Y tế", Level: consult.CommuneHealthStation}); err != nil {
		f.Fatal(err)
	}
	allDay := []booking.Interval{{Open: "00:00", Close: "24:00"}}
	if _, err := n.book.PutSchedule(ctx, "test", booking.Schedule{Facility: "66-TYT001", SlotMinutes: 5, Capacity: 2, HorizonDays: 365,
		Hours: map[string][]booking.Interval{"mon": allDay, "tue": allDay, "wed": allDay, "thu": allDay, "fri": allDay, "sat": allDay, "sun": allDay}}); err != nil {
		f.Fatal(err)
	}
	h := n.routes()
	tomorrow := time.Now().Add(24 * time.Hour).Truncate(time.Hour).UTC().Format(time.RFC3339)
	for _, s := range []string{
		`{"facility":"66-TYT001","start":"` + tomorrow + `","name":"Lan","phone":"0912345678","reason":"x"}`,
		`{"facility":"66-TYT001","start":"` + tomorrow + `","name":"Lan","phone":"+84912345678","birth_year":1950}`,
		`{"facility":"66-TYT001","start":"2001-01-01T00:00:00Z","name":"Lan","phone":"0912345678"}`,
		`{"facility":"66-TYT001/x","start":"` + tomorrow + `","name":"L","phone":"0"}`,
		`{"facility":"66-TYT001","start":"` + tomorrow + `","name":"\u0000","phone":"0912345678"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/appointments", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusCreated {
			return
		}
		if w.Code < 400 || w.Code > 499 {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		var e apiError
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
			t.Fatalf("error body %q: %v", w.Body.String(), err)
		}
	})
}
