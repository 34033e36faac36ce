package directory_test

import (
	"strings"
	"testing"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
)

// FuzzParseFacilitiesCSV feeds arbitrary bytes (an admin's upload) to the
// parser: it must never panic, and whatever it accepts must be valid.
func FuzzParseFacilitiesCSV(f *testing.F) {
	f.Add([]byte(goodCSV))
	f.Add([]byte(""))
	f.Add([]byte("\ufeff"))
	f.Add([]byte("code,name,level\n"))
	f.Add([]byte("code,name,level\nA,Trạm A,commune_health_station\n"))
	f.Add([]byte("code,name,level,lat,lon\nA,B,health_centre,NaN,Inf\n"))
	f.Add([]byte("code,name,level,lat,lon\nA,B,health_centre,12.5,\n"))
	f.Add([]byte("code,name,level,specialties,services\nA,B,health_centre,;;cardiology;,\";\"\n"))
	f.Add([]byte("code,name,level\n\"A\nB\",\"x\"\"y\",commune_health_station\n"))
	f.Add([]byte("code,name,level\nA,Tr\xffm,commune_health_station\n"))
	f.Add([]byte("code,code\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := directory.ParseFacilitiesCSV(strings.NewReader(string(data)))
		if err != nil {
			if fs != nil {
				t.Fatalf("facilities returned with error %v", err)
			}
			return
		}
		if len(fs) == 0 {
			t.Fatal("no error and no facilities")
		}
		seen := map[string]bool{}
		for _, x := range fs {
			if x.Code == "" || x.Name == "" || !consult.ValidLevel(x.Level) || seen[x.Code] {
				t.Fatalf("accepted an invalid or duplicate facility %+v", x)
			}
			seen[x.Code] = true
		}
	})
}
