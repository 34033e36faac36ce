package fhir

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/sample"
	"github.com/moinha/moinha/storage"
)

var national struct {
	once sync.Once
	dir  *directory.Service
	err  error
}

// nationalDirectory is a replica of all 34 provinces at full sample size
// (17,000 facilities, ~169,000 health workers) on a node of province
// "00", applied as remote records; built once per test process.
func nationalDirectory(b *testing.B) *directory.Service {
	b.Helper()
	national.once.Do(func() {
		path := filepath.Join(b.TempDir(), "national.db")
		db, err := storage.Open(path, &storage.Options{NoSync: true, InitialMmapSize: 1 << 30})
		if err != nil {
			national.err = err
			return
		}
		s := directory.New(db, "00", nil)
		for _, p := range sample.Provinces() {
			d := sample.Province(p.Code, 1, sample.Full)
			err := db.Update(context.Background(), func(tx *storage.Tx) error {
				for _, f := range d.Facilities {
					f.ID, f.Province = p.Code+"-"+f.Code, p.Code
					raw, _ := json.Marshal(f)
					if err := s.ApplyRemote(tx, directory.KindFacility, f.ID, raw, false); err != nil {
						return err
					}
				}
				for _, pr := range d.Practitioners {
					pr.Province = p.Code
					raw, _ := json.Marshal(pr)
					if err := s.ApplyRemote(tx, directory.KindPractitioner, pr.ID, raw, false); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				national.err = err
				return
			}
		}
		national.dir = s
	})
	require.NoError(b, national.err)
	return national.dir
}

// BenchmarkFHIRNational measures one page of typical directory requests
// over the national replica.
func BenchmarkFHIRNational(b *testing.B) {
	s := nationalDirectory(b)
	d := &Directory{Dir: s, Members: []Member{{Peer: "12D3KooWself", Province: "00", Role: "province", Self: true}},
		BaseURL: "http://127.0.0.1/fhir"}
	for _, c := range []struct{ name, typ, q string }{
		{"organization-first-page", "Organization", "_count=50"},
		{"organization-one-province", "Organization", "partof=Organization/province.66&_count=50"},
		{"location-name-rare", "Location", "name=zzzz&_count=50"},
		{"location-state-rare-unfiltered", "Location", "address-state=zzzz&_count=50"}, // baseline: no byte filter applies
		{"role-one-facility", "PractitionerRole", "organization=Organization/66-BVDK"},
		{"practitioner-name-rare", "Practitioner", "name=zzzz&_count=50"},
		{"role-specialty", "PractitionerRole", "specialty=cardiology&_count=50"},
	} {
		b.Run(c.name, func(b *testing.B) {
			vals, err := url.ParseQuery(c.q)
			require.NoError(b, err)
			matches := 0
			for b.Loop() {
				srch, err := ParseSearch(c.typ, vals)
				require.NoError(b, err)
				src, err := d.SourceFor(srch)
				require.NoError(b, err)
				items, next, err := srch.Run(src)
				require.NoError(b, err)
				matches = len(items)
				_, err = Marshal(SearchBundle(d.BaseURL, srch, items, next))
				require.NoError(b, err)
			}
			b.ReportMetric(float64(matches), "matches")
		})
	}
	b.Run("history-since-now", func(b *testing.B) {
		h, err := ParseHistory("", url.Values{"_since": {time.Now().UTC().Format(time.RFC3339)}})
		require.NoError(b, err)
		for b.Loop() {
			_, err := d.History(d.BaseURL, h)
			require.NoError(b, err)
		}
	})
}
