package directory_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
)

const goodCSV = "\ufeffcode,name,name_en,level,commune,address,specialties,services,phone,email,lat,lon\n" +
	`BVDK,Bệnh viện Đa khoa tỉnh Đắk Lắk,Dak Lak Provincial General Hospital,provincial_hospital,Buôn Ma Thuột,"2 Mai Hắc Đế, phường Buôn Ma Thuột",cardiology; surgery ;paediatrics,Khám bệnh;Cấp cứu 24/7,0262 3852 665,lienhe@bvdk.example.vn,12.6797,108.0443` + "\n" +
	`TYT-EAKAO,Trạm Y tế xã Ea Kao,,commune_health_station,Ea Kao,Thôn 3,general_practice,"Tiêm chủng; Khám thai",0262 3800 001,,,` + "\r\n" +
	"\n" +
	`TYT-HOATHANG,"Trạm Y tế xã ""Hòa Thắng""",,commune_health_station,Hòa Thắng,,,,,,12.65,108.1` + "\n"

func TestParseFacilitiesCSV(t *testing.T) {
	fs, err := directory.ParseFacilitiesCSV(strings.NewReader(goodCSV))
	require.NoError(t, err)
	require.Len(t, fs, 3)
	assert.Equal(t, "BVDK", fs[0].Code)
	assert.Equal(t, consult.ProvincialHospital, fs[0].Level)
	assert.Equal(t, []string{"cardiology", "surgery", "paediatrics"}, fs[0].Specialties)
	assert.Equal(t, []string{"Khám bệnh", "Cấp cứu 24/7"}, fs[0].Services)
	assert.Equal(t, "2 Mai Hắc Đế, phường Buôn Ma Thuột", fs[0].Address)
	require.NotNil(t, fs[0].Geo)
	assert.InDelta(t, 108.0443, fs[0].Geo.Lon, 1e-9)
	assert.Nil(t, fs[1].Geo)
	assert.Equal(t, []string{"Tiêm chủng", "Khám thai"}, fs[1].Services)
	assert.Equal(t, `Trạm Y tế xã "Hòa Thắng"`, fs[2].Name)
	assert.Equal(t, []string{}, fs[2].Specialties)

	// Columns may come in any order, optional ones may be left out.
	fs, err = directory.ParseFacilitiesCSV(strings.NewReader("Level, Name ,CODE\ncommune_health_station,Trạm Y tế xã Ea Tu,TYT9\n"))
	require.NoError(t, err)
	require.Len(t, fs, 1)
	assert.Equal(t, "TYT9", fs[0].Code)

	s, rec, _ := newService(t)
	fs, err = directory.ParseFacilitiesCSV(strings.NewReader(goodCSV))
	require.NoError(t, err)
	n, err := s.ImportFacilities(context.Background(), "admin", fs)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Len(t, rec.all(), 3, "each imported facility is staged")
	got, err := s.GetFacility("66-TYT-EAKAO")
	require.NoError(t, err)
	assert.Equal(t, "66", got.Province)
	found, _, err := s.ListFacilities(directory.FacilityFilter{Q: "hoa thang"}, 0, "")
	require.NoError(t, err)
	assert.Len(t, found, 1)
}

func TestParseFacilitiesCSVErrors(t *testing.T) {
	header := "code,name,level,lat,lon\n"
	cases := []struct {
		name  string
		input string
		want  []string // substrings of the message
	}{
		{"empty", "", []string{"empty"}},
		{"header only", header, []string{"no facility rows"}},
		{"unknown column", "code,name,level,fax\n", []string{"row 1", "fax"}},
		{"missing required column", "code,name\n", []string{"row 1", "level"}},
		{"duplicate column", "code,name,level,code\n", []string{"twice"}},
		{"bad level", header + "A,Trạm A,commune_health_station,,\nB,Trạm B,clinic,,\n", []string{"row 3, column level"}},
		{"bad code", header + "A B,Trạm A,commune_health_station,,\n", []string{"row 2, column code"}},
		{"missing name", header + "A,,commune_health_station,,\n", []string{"row 2, column name", "required"}},
		{"lat not a number", header + "A,Trạm A,commune_health_station,north,108\n", []string{"row 2, column lat"}},
		{"lon without lat", header + "A,Trạm A,commune_health_station,,108\n", []string{"row 2, column lat"}},
		{"outside Viet Nam", header + "A,Trạm A,commune_health_station,48.8,2.3\n", []string{"row 2, column lat/lon", "outside"}},
		{"duplicate code", header + "A,Trạm A,commune_health_station,,\nA,Trạm A2,commune_health_station,,\n", []string{"row 3, column code", "row 2"}},
		{"wrong field count", header + "A,Trạm A\n", []string{"line 2", "wrong number of fields"}},
		{"bare quote", header + "A,Trạm \"A,commune_health_station,,\n", []string{"line 2"}},
		{"not UTF-8", header + "A,Tr\xe1m A,commune_health_station,,\n", []string{"row 2, column name", "UTF-8"}},
		{"bad specialty", "code,name,level,specialties\nA,Trạm A,commune_health_station,cardiology;voodoo\n", []string{"row 2, column specialties", "voodoo"}},
		{"field too long", "code,name,level,address\nA,Trạm A,commune_health_station," + strings.Repeat("x", 9000) + "\n", []string{"row 2, column address"}},
		{"many problems", header + strings.Repeat(",,,,\n", 30), []string{"row 2, column code", "row 21", "and 10 more"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := directory.ParseFacilitiesCSV(strings.NewReader(tc.input))
			require.Error(t, err)
			assert.Nil(t, fs)
			assert.ErrorIs(t, err, consult.ErrInvalid)
			assert.Equal(t, "invalid_csv", consultCode(err))
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseFacilitiesCSVLimits(t *testing.T) {
	// More rows than allowed.
	var b bytes.Buffer
	b.WriteString("code,name,level\n")
	for i := range directory.MaxCSVRows + 1 {
		fmt.Fprintf(&b, "T%d,Trạm %d,commune_health_station\n", i, i)
	}
	_, err := directory.ParseFacilitiesCSV(&b)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than 20000 rows")

	// A file past 16 MiB is refused without reading it all.
	big := io.MultiReader(strings.NewReader("code,name,level,address\nA,B,commune_health_station,\""),
		&repeatReader{b: 'x', n: directory.MaxCSVBytes + 1})
	_, err = directory.ParseFacilitiesCSV(big)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than 16 MiB")
}

// repeatReader yields n copies of b.
type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = r.b
	}
	r.n -= k
	return k, nil
}

func TestImportFacilitiesAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, rec, _ := newService(t)
	fs := make([]directory.Facility, 0, 1201)
	for i := range 1200 {
		fs = append(fs, station(fmt.Sprintf("T%04d", i), fmt.Sprintf("Trạm Y tế số %d", i)))
	}
	bad := station("T-BAD", "Trạm hỏng")
	bad.Level = "castle"
	fs = append(fs, bad, station("T0001", "Trùng mã"))

	n, err := s.ImportFacilities(ctx, "admin", fs)
	require.Error(t, err)
	assert.Zero(t, n)
	assert.Equal(t, "invalid_import", consultCode(err))
	assert.Contains(t, err.Error(), "facility 1201")
	assert.Contains(t, err.Error(), "facility 1202")
	count, _, err := s.Counts("66")
	require.NoError(t, err)
	assert.Zero(t, count, "nothing written when any entry is bad")
	assert.Empty(t, rec.all())

	// Without the bad entries, all 1,200 are written (in three chunks).
	n, err = s.ImportFacilities(ctx, "admin", fs[:1200])
	require.NoError(t, err)
	assert.Equal(t, 1200, n)
	count, _, err = s.Counts("66")
	require.NoError(t, err)
	assert.Equal(t, 1200, count)
	assert.Len(t, rec.all(), 1200)
}

func TestImportPractitioners(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	ps := []directory.Practitioner{
		{ID: "bs1", Name: "Nguyễn Văn An", Role: "doctor", Facility: "66-TYT01"},
		{Name: "Trần Thị Bình", Role: "nurse", Facility: "66-TYT01"},
		{ID: "66-bs2", Name: "Lê Thị Chi", Role: "midwife", Facility: "66-TYT01"},
	}
	bad := append(append([]directory.Practitioner{}, ps...),
		directory.Practitioner{Name: "Phạm Văn Dũng", Role: "doctor", Facility: "66-TYT99"},
		directory.Practitioner{ID: "bs1", Name: "Hồ Văn Em", Role: "doctor", Facility: "66-TYT01"},
	)
	n, err := s.ImportPractitioners(ctx, "admin", bad)
	require.Error(t, err)
	assert.Zero(t, n)
	assert.Contains(t, err.Error(), "practitioner 5")
	_, count, err := s.Counts("66")
	require.NoError(t, err)
	assert.Zero(t, count)

	bad = append(append([]directory.Practitioner{}, ps...),
		directory.Practitioner{Name: "Phạm Văn Dũng", Role: "doctor", Facility: "66-TYT99"})
	_, err = s.ImportPractitioners(ctx, "admin", bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "practitioner 4")
	assert.Contains(t, err.Error(), "no facility")

	n, err = s.ImportPractitioners(ctx, "admin", ps)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	got, _, err := s.ListPractitioners(directory.PractitionerFilter{Facility: "66-TYT01"}, 0, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"66-bs1", "66-bs2", "66-nv1"}, ids(got))
}
