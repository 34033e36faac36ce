package sample

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// weighted is a choice with a relative weight.
type weighted struct {
	s string
	w int
}

// familyNames are the commonest Vietnamese family names, weighted roughly
// by their share of the population.
func familyNames() []weighted {
	return []weighted{
		{"Nguyễn", 380}, {"Trần", 110}, {"Lê", 95}, {"Phạm", 70}, {"Hoàng", 30}, {"Huỳnh", 21},
		{"Phan", 45}, {"Vũ", 20}, {"Võ", 19}, {"Đặng", 21}, {"Bùi", 20}, {"Đỗ", 14}, {"Hồ", 13},
		{"Ngô", 13}, {"Dương", 10}, {"Lý", 5}, {"Đinh", 6}, {"Trương", 6}, {"Mai", 4}, {"Lương", 4},
		{"Cao", 3}, {"Tạ", 2}, {"Lâm", 3}, {"Đoàn", 3}, {"Trịnh", 3}, {"Hà", 3}, {"Chu", 2},
	}
}

func middleNames(female bool) []weighted {
	if female {
		return []weighted{{"Thị", 60}, {"Ngọc", 8}, {"Thu", 5}, {"Thanh", 5}, {"Kim", 4}, {"Mai", 3},
			{"Hồng", 3}, {"Thùy", 3}, {"Phương", 3}, {"Minh", 2}, {"Bích", 2}, {"Diệu", 1}, {"Thảo", 1}}
	}
	return []weighted{{"Văn", 45}, {"Hữu", 8}, {"Đức", 8}, {"Minh", 7}, {"Quang", 6}, {"Thành", 5},
		{"Công", 5}, {"Xuân", 4}, {"Quốc", 4}, {"Ngọc", 3}, {"Trọng", 3}, {"Đình", 4}, {"Anh", 3}, {"Tuấn", 2}}
}

func givenNames(female bool) []string {
	if female {
		return []string{"Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Loan",
			"Mai", "Ngọc", "Nhung", "Phương", "Thảo", "Trang", "Vân", "Yến", "Hằng", "Huyền", "Nga", "Oanh",
			"Quyên", "Thu", "Thủy", "Trinh", "Uyên", "Vy", "Xuân", "My", "Ngân", "Diệp", "Hiền", "Tuyết", "Ánh"}
	}
	return []string{"An", "Bình", "Cường", "Dũng", "Hùng", "Huy", "Khoa", "Long", "Minh", "Nam", "Phong",
		"Quân", "Sơn", "Thắng", "Trung", "Tuấn", "Việt", "Hiếu", "Hải", "Đạt", "Đức", "Hòa", "Khánh", "Lâm",
		"Lộc", "Nghĩa", "Phúc", "Quang", "Tài", "Thành", "Thịnh", "Toàn", "Vinh", "Vũ", "Bảo", "Duy", "Kiên", "Tâm"}
}

// edeNames are Ê Đê family names and given names (women's take the H'
// prefix, men's Y).
func edeNames() (families, women, men []string) {
	return []string{"Niê", "Êban", "Mlô", "Ktla", "Byă", "Adrơng", "Hwing", "Kbuôr", "Ayun", "Êñuôl", "Knul", "Mdrang"},
		[]string{"Linh", "Yến", "Hen", "Bia", "Nhi", "Jôn", "Năm", "Ly", "Mai", "Dung", "Ngân", "Hương"},
		[]string{"Khoa", "Ngông", "Bih", "Jut", "Thanh", "Wang", "Tlam", "Kông", "Dhăm", "Hưng", "Blin", "Tuân"}
}

// jraiNames are Jrai family names (written first) and given names.
func jraiNames() (families, women, men []string) {
	return []string{"Ksor", "Rơ Châm", "Siu", "Rơ Mah", "Kpă", "Nay", "Rah Lan", "Rcom", "Puih", "Rơ Lan"},
		[]string{"H'Bia", "H'Lan", "H'Mai", "H'Yên", "H'Nhung", "H'Ly", "H'Phi", "H'Dơn"},
		[]string{"Blơng", "Hyin", "Thuk", "Tuấn", "Đức", "Luih", "Dơk", "Hiếu", "Phun", "Sang"}
}

// communeParts are syllables that make plausible two-syllable commune and
// ward names ("Tân Phú", "Hòa Thắng").
func communeParts() (first, second []string) {
	return []string{"An", "Bình", "Tân", "Hòa", "Phú", "Thạnh", "Long", "Phước", "Đông", "Tây", "Nam", "Bắc",
			"Hưng", "Mỹ", "Xuân", "Thuận", "Vĩnh", "Quảng", "Hải", "Sơn", "Thanh", "Trung", "Đại", "Hồng",
			"Kim", "Ngọc", "Phong", "Cẩm", "Thái", "Yên", "Gia", "Hiệp", "Lạc", "Minh", "Quang", "Tiên",
			"Vạn", "Đức", "Nghĩa", "Thống"},
		[]string{"An", "Bình", "Hòa", "Phú", "Lợi", "Thịnh", "Hưng", "Lộc", "Thành", "Lạc", "Mỹ", "Sơn",
			"Thủy", "Phong", "Tiến", "Thắng", "Đông", "Tây", "Trung", "Xuân", "Long", "Hải", "Hiệp", "Khánh",
			"Định", "Phát", "Tân", "Điền", "Hà", "Lâm", "Nhất", "Quý", "Tường", "Vinh", "Thọ", "Bảo", "Đạt",
			"Nghĩa", "Hội", "Cường"}
}

// flavourCommunes are place names typical of a region, used for some of
// its communes.
func flavourCommunes(p *province) []string {
	switch {
	case p.ethnicVI == "ede":
		return []string{"Ea Kao", "Ea Tu", "Ea Kly", "Ea Knốp", "Ea H'đing", "Ea Drông", "Ea Wer", "Ea Sar",
			"Ea Ô", "Ea Phê", "Ea Bar", "Ea Rốk", "Ea Hiao", "Ea Tóh", "Ea Păl", "Krông Búk", "Krông Năng",
			"Krông Jing", "Krông Ana", "Krông Bông", "Cư Pơng", "Cư Kty", "Cư Prao", "Cư Yang", "Cư Bao",
			"Buôn Đôn", "Buôn Triết", "Đắk Liêng", "Đắk Phơi", "Yang Mao", "Dray Bhăng", "Hòa Xuân"}
	case p.ethnicVI == "jra":
		return []string{"Ia Grai", "Ia Pa", "Ia Hrú", "Ia Le", "Ia Mơ", "Ia Dom", "Ia Rbol", "Ia Sao", "Ia Ko",
			"Ia Phí", "Ia Dreh", "Ia Tôr", "Ia Băng", "Ia Pnôn", "Chư Á", "Chư Păh", "Chư Pưh", "Chư Don",
			"Kon Chiêng", "Đak Đoa", "Đak Pơ", "Kông Bơ La", "Ayun", "Glar", "Biển Hồ", "Bàu Cạn"}
	case p.region == regionHighland:
		return []string{"Đạ Huoai", "Đạ Tẻh", "Đạ M'ri", "Đạ Sar", "Lộc An", "Lộc Bắc", "Lộc Thành", "Đinh Văn",
			"Ninh Gia", "Lát", "Đắk Nia", "Quảng Khê", "Tà Hine", "Phi Tô", "Liêng Srônh", "Đam Rông"}
	case p.region == regionNorthHill:
		return []string{"Nà Phặc", "Nà Hang", "Nà Sản", "Bản Giốc", "Mường Khương", "Mường Hum", "Mường Lay",
			"Mường Nhé", "Pác Nặm", "Xín Mần", "Xín Chải", "Sìn Hồ", "Lũng Cú", "Lũng Phìn", "Phìn Hồ",
			"Chiềng Mai", "Chiềng Sơn", "Chiềng On", "Chiềng Khoong", "Tà Xùa", "Pà Cò", "Nậm Cắn", "Nậm Pồ"}
	case p.region == regionSouth || p.khmer:
		return []string{"Long Điền", "Tân Hiệp", "Vĩnh Thạnh", "Mỹ Hòa", "Thới Lai", "Cái Nước", "Rạch Gòi",
			"Cái Tắc", "Kênh Xáng", "Bình Thủy", "Tân Lộc", "Hòa Hảo", "Ba Chúc", "Lương Hòa", "Trà Cú"}
	}
	return nil
}

func streetNames() []string {
	return []string{"Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hùng Vương", "Quang Trung", "Lý Thường Kiệt",
		"Hai Bà Trưng", "Nguyễn Trãi", "Lê Duẩn", "Phan Chu Trinh", "Nguyễn Tất Thành", "Võ Nguyên Giáp",
		"Trần Phú", "Lê Thánh Tông", "Ngô Quyền", "Phan Đình Phùng"}
}

// ascii strips Vietnamese diacritics, keeping case: "Đắk Lắk" → "Dak Lak".
func ascii(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'Đ':
			b.WriteRune('D')
		case r == 'đ':
			b.WriteRune('d')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
