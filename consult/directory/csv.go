package directory

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/moinha/moinha/consult"
)

// Limits of a facilities CSV file.
const (
	MaxCSVBytes      = 16 << 20 // the whole file
	MaxCSVRows       = 20000    // data rows, not counting the header
	MaxCSVFieldBytes = 8 << 10  // one cell
	maxCSVProblems   = 20       // problems reported before giving up
)

// CSVColumns are the columns ParseFacilitiesCSV understands, in the
// recommended order. code, name and level are required.
func CSVColumns() []string {
	return []string{"code", "name", "name_en", "level", "commune", "address",
		"specialties", "services", "phone", "email", "lat", "lon"}
}

// errCSVTooLarge is returned by the reader wrapper past MaxCSVBytes.
var errCSVTooLarge = errors.New("file too large")

// capReader fails once more than n bytes have been read.
type capReader struct {
	r io.Reader
	n int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, errCSVTooLarge
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		return n, errCSVTooLarge
	}
	return n, err
}

// csvProblems collects validation problems (of CSV rows or import
// entries) for one user-facing message.
type csvProblems struct {
	list  []string
	extra int
}

func (p *csvProblems) add(format string, args ...any) {
	if len(p.list) == maxCSVProblems {
		p.extra++
		return
	}
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

// err returns the problems as one *consult.Error with the given code, or
// nil when there are none.
func (p *csvProblems) err(code string) error {
	if len(p.list) == 0 {
		return nil
	}
	msg := strings.Join(p.list, "; ")
	if p.extra > 0 {
		msg += fmt.Sprintf("; and %d more", p.extra)
	}
	return consult.Errorf(consult.ErrInvalid, code, "%s", msg)
}

func csvFail(format string, args ...any) error {
	return consult.Errorf(consult.ErrInvalid, "invalid_csv", format, args...)
}

// ParseFacilitiesCSV reads facilities from a UTF-8 CSV file (a leading BOM
// is ignored) whose first row names the columns (see CSVColumns, any order;
// unknown columns are refused so that a misspelt one is not silently
// dropped). specialties and services hold ';'-separated lists; lat and lon
// are decimal degrees, both or neither. Every row is validated as
// PutFacility would, and codes must be unique in the file. Rows are
// numbered as a spreadsheet does (the header is row 1). On any problem it
// returns a *consult.Error (code "invalid_csv") listing up to 20 problems
// by row and column, and no facilities. The file may hold at most
// MaxCSVRows rows and MaxCSVBytes bytes.
func ParseFacilitiesCSV(r io.Reader) ([]Facility, error) {
	br := bufio.NewReader(&capReader{r: r, n: MaxCSVBytes})
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, csvReadErr(err, true)
	}
	cols, err := csvHeader(header)
	if err != nil {
		return nil, err
	}
	var (
		out      []Facility
		problems csvProblems
		seen     = map[string]int{} // code → row
	)
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvReadErr(err, false)
		}
		if row-1 > MaxCSVRows {
			return nil, csvFail("more than %d rows", MaxCSVRows)
		}
		f, col, msg := csvFacility(cols, rec)
		if msg == "" {
			if first, dup := seen[f.Code]; dup {
				col, msg = "code", fmt.Sprintf("%q is also on row %d", f.Code, first)
			} else {
				seen[f.Code] = row
			}
		}
		if msg != "" {
			problems.add("row %d, column %s: %s", row, col, msg)
			continue
		}
		if len(problems.list) == 0 {
			out = append(out, f)
		}
	}
	if err := problems.err("invalid_csv"); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, csvFail("the file has a header but no facility rows")
	}
	return out, nil
}

func csvReadErr(err error, header bool) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, errCSVTooLarge):
		return csvFail("the file is larger than %d MiB", MaxCSVBytes>>20)
	case err == io.EOF && header:
		return csvFail("the file is empty; the first row must name the columns (%s)", strings.Join(CSVColumns(), ","))
	case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
		return csvFail("line %d: %v (every row needs as many fields as the header)", pe.Line, pe.Err)
	case errors.As(err, &pe):
		return csvFail("line %d: %v", pe.Line, pe.Err)
	}
	return fmt.Errorf("directory: read CSV: %w", err)
}

// csvHeader maps column names to their positions.
func csvHeader(header []string) (map[string]int, error) {
	known := CSVColumns()
	cols := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !utf8.ValidString(h) || !containsString(known, h):
			return nil, csvFail("row 1, column %d: unknown column %.40q; the columns are %s", i+1, h, strings.Join(known, ","))
		case cols[h] != 0:
			return nil, csvFail("row 1: column %s appears twice", h)
		}
		cols[h] = i + 1 // 0 means absent
	}
	for _, need := range []string{"code", "name", "level"} {
		if cols[need] == 0 {
			return nil, csvFail("row 1: the required column %s is missing", need)
		}
	}
	return cols, nil
}

// csvFacility builds and checks one row; on failure it returns the column
// and the problem.
func csvFacility(cols map[string]int, rec []string) (f Facility, col, msg string) {
	get := func(name string) string {
		if i := cols[name]; i > 0 && i <= len(rec) {
			return rec[i-1]
		}
		return ""
	}
	for _, name := range CSVColumns() { // in a fixed order, so messages are stable
		i := cols[name]
		if i == 0 {
			continue
		}
		v := rec[i-1]
		if len(v) > MaxCSVFieldBytes {
			return f, name, fmt.Sprintf("longer than %d bytes", MaxCSVFieldBytes)
		}
		if !utf8.ValidString(v) {
			return f, name, "not UTF-8 text (save the file as CSV UTF-8)"
		}
	}
	f = Facility{
		Code: get("code"), Name: get("name"), NameEN: get("name_en"),
		Level: consult.Level(get("level")), Commune: get("commune"), Address: get("address"),
		Specialties: splitList(get("specialties")), Services: splitList(get("services")),
		Phone: get("phone"), Email: get("email"),
	}
	lat, lon := strings.TrimSpace(get("lat")), strings.TrimSpace(get("lon"))
	switch {
	case lat == "" && lon == "":
	case lat == "":
		return f, "lat", "is empty but lon is set; give both or neither"
	case lon == "":
		return f, "lon", "is empty but lat is set; give both or neither"
	default:
		la, err := strconv.ParseFloat(lat, 64)
		if err != nil {
			return f, "lat", fmt.Sprintf("%.30q is not a number", lat)
		}
		lo, err := strconv.ParseFloat(lon, 64)
		if err != nil {
			return f, "lon", fmt.Sprintf("%.30q is not a number", lon)
		}
		f.Geo = &Geo{Lat: la, Lon: lo}
	}
	if e := checkFacility(&f); e != nil {
		if e.Field == "geo" {
			e.Field = "lat/lon"
		}
		return f, e.Field, e.Msg
	}
	return f, "", ""
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return []string{}
	}
	parts := strings.Split(s, ";")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
