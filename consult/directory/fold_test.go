package directory_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/moinha/moinha/consult/directory"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Đắk Lắk":               "dak lak",
		"ĐẮK LẮK":               "dak lak",
		"TP. Hồ Chí Minh":       "tp ho chi minh",
		"Trạm Y tế xã Cư M'gar": "tram y te xa cu mgar",
		"Bà Rịa - Vũng Tàu":     "ba ria vung tau",
		"  Huế\t\n ":            "hue",
		"Thừa Thiên–Huế":        "thua thien hue",
		"TYT-001":               "tyt 001",
		"Khánh Hòa":             "khanh hoa",
		"Khánh Hoà":             "khanh hoa", // old-style tone placement
		"Nguyễn Thị Ánh Tuyết":  "nguyen thi anh tuyet",
		"e\u0301":               "e", // decomposed input
		"":                      "",
		"...":                   "",
		"H\u2019Linh Niê":       "hlinh nie",
		"Bệnh viện Đa khoa tỉnh Đắk Lắk 1": "benh vien da khoa tinh dak lak 1",
	} {
		assert.Equal(t, want, directory.Fold(in), "Fold(%q)", in)
	}
}
