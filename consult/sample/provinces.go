package sample

// ProvinceInfo is a province or centrally-run city.
type ProvinceInfo struct {
	Code   string  `json:"code"`    // two-digit administrative code
	Name   string  `json:"name"`    // Vietnamese name
	NameEN string  `json:"name_en"` // English name, without diacritics
	Lat    float64 `json:"lat"`     // approximate centroid
	Lon    float64 `json:"lon"`
}

// region flavours the generated place and person names.
type region int

const (
	regionPlain     region = iota // Red River delta, central coast
	regionNorthHill               // northern mountains: Bản, Mường; some Hmong speakers
	regionHighland                // Central Highlands: Buôn, Ea, Ia; Ê Đê and Jrai names
	regionSouth                   // Mekong delta and south-east: Ấp
	regionCity                    // centrally-run cities: mostly wards
)

// province is the generator's view of a province.
type province struct {
	ProvinceInfo
	city     bool     // a centrally-run city ("thành phố"), else "tỉnh"
	area     string   // landline area code, e.g. "0262"
	abbr     string   // short form used in licence numbers
	region   region   //
	khmer    bool     // a Khmer-speaking minority lives here
	areas    []string // former districts and towns: names of regional health centres
	ethnicVI string   // which highland naming: "ede" (Ê Đê) or "jra" (Jrai)
}

// provinceTable returns the 34 provinces and centrally-run cities after
// the 2025 reorganisation (Resolution 202/2025/QH15), in code order. It
// builds a fresh table on every call: the package keeps no mutable state.
func provinceTable() []province {
	return []province{
		{ProvinceInfo{"01", "Hà Nội", "Hanoi", 21.03, 105.80}, true, "024", "HN", regionCity, false,
			[]string{"Sóc Sơn", "Đông Anh", "Gia Lâm", "Thanh Trì", "Ba Vì", "Thạch Thất", "Chương Mỹ", "Mỹ Đức", "Ứng Hòa", "Thường Tín", "Phú Xuyên", "Mê Linh"}, ""},
		{ProvinceInfo{"04", "Cao Bằng", "Cao Bang", 22.67, 106.25}, false, "0206", "CB", regionNorthHill, false,
			[]string{"Hòa An", "Trùng Khánh", "Quảng Hòa", "Bảo Lạc", "Hà Quảng", "Nguyên Bình"}, ""},
		{ProvinceInfo{"08", "Tuyên Quang", "Tuyen Quang", 22.30, 105.10}, false, "0207", "TQ", regionNorthHill, false,
			[]string{"Sơn Dương", "Yên Sơn", "Hàm Yên", "Chiêm Hóa", "Na Hang", "Hà Giang", "Bắc Quang", "Đồng Văn", "Mèo Vạc", "Hoàng Su Phì"}, ""},
		{ProvinceInfo{"11", "Điện Biên", "Dien Bien", 21.70, 103.00}, false, "0215", "ĐB", regionNorthHill, false,
			[]string{"Mường Chà", "Tuần Giáo", "Điện Biên Đông", "Mường Nhé", "Tủa Chùa", "Mường Ảng"}, ""},
		{ProvinceInfo{"12", "Lai Châu", "Lai Chau", 22.30, 103.30}, false, "0213", "LC", regionNorthHill, false,
			[]string{"Tam Đường", "Phong Thổ", "Sìn Hồ", "Than Uyên", "Tân Uyên", "Mường Tè"}, ""},
		{ProvinceInfo{"14", "Sơn La", "Son La", 21.20, 104.00}, false, "0212", "SL", regionNorthHill, false,
			[]string{"Mộc Châu", "Mai Sơn", "Thuận Châu", "Yên Châu", "Sông Mã", "Phù Yên", "Bắc Yên"}, ""},
		{ProvinceInfo{"15", "Lào Cai", "Lao Cai", 22.00, 104.30}, false, "0214", "LCa", regionNorthHill, false,
			[]string{"Sa Pa", "Bảo Thắng", "Bát Xát", "Bắc Hà", "Văn Bàn", "Yên Bái", "Nghĩa Lộ", "Văn Yên", "Lục Yên", "Mù Cang Chải"}, ""},
		{ProvinceInfo{"19", "Thái Nguyên", "Thai Nguyen", 21.90, 105.80}, false, "0208", "TN", regionNorthHill, false,
			[]string{"Phổ Yên", "Sông Công", "Đại Từ", "Phú Lương", "Định Hóa", "Đồng Hỷ", "Bắc Kạn", "Ba Bể", "Chợ Đồn", "Ngân Sơn"}, ""},
		{ProvinceInfo{"20", "Lạng Sơn", "Lang Son", 21.85, 106.60}, false, "0205", "LS", regionNorthHill, false,
			[]string{"Cao Lộc", "Văn Lãng", "Tràng Định", "Bắc Sơn", "Hữu Lũng", "Chi Lăng", "Lộc Bình", "Đình Lập"}, ""},
		{ProvinceInfo{"22", "Quảng Ninh", "Quang Ninh", 21.10, 107.30}, false, "0203", "QN", regionPlain, false,
			[]string{"Hạ Long", "Cẩm Phả", "Uông Bí", "Móng Cái", "Đông Triều", "Quảng Yên", "Tiên Yên", "Vân Đồn"}, ""},
		{ProvinceInfo{"24", "Bắc Ninh", "Bac Ninh", 21.25, 106.30}, false, "0222", "BN", regionPlain, false,
			[]string{"Từ Sơn", "Tiên Du", "Quế Võ", "Thuận Thành", "Gia Bình", "Bắc Giang", "Lục Ngạn", "Lạng Giang", "Yên Thế", "Hiệp Hòa", "Việt Yên"}, ""},
		{ProvinceInfo{"25", "Phú Thọ", "Phu Tho", 21.10, 105.30}, false, "0210", "PT", regionPlain, false,
			[]string{"Việt Trì", "Phù Ninh", "Thanh Sơn", "Tam Nông", "Vĩnh Yên", "Phúc Yên", "Tam Đảo", "Hòa Bình", "Mai Châu", "Lạc Sơn", "Kim Bôi"}, ""},
		{ProvinceInfo{"31", "Hải Phòng", "Hai Phong", 20.90, 106.50}, true, "0225", "HP", regionCity, false,
			[]string{"Thủy Nguyên", "An Lão", "Kiến Thụy", "Tiên Lãng", "Vĩnh Bảo", "Hải Dương", "Chí Linh", "Kinh Môn", "Nam Sách", "Ninh Giang"}, ""},
		{ProvinceInfo{"33", "Hưng Yên", "Hung Yen", 20.65, 106.20}, false, "0221", "HY", regionPlain, false,
			[]string{"Văn Lâm", "Mỹ Hào", "Khoái Châu", "Kim Động", "Phù Cừ", "Thái Bình", "Quỳnh Phụ", "Thái Thụy", "Tiền Hải", "Kiến Xương", "Vũ Thư"}, ""},
		{ProvinceInfo{"37", "Ninh Bình", "Ninh Binh", 20.35, 106.05}, false, "0229", "NB", regionPlain, false,
			[]string{"Hoa Lư", "Tam Điệp", "Nho Quan", "Kim Sơn", "Nam Định", "Hải Hậu", "Giao Thủy", "Ý Yên", "Phủ Lý", "Duy Tiên", "Kim Bảng"}, ""},
		{ProvinceInfo{"38", "Thanh Hóa", "Thanh Hoa", 20.00, 105.50}, false, "0237", "TH", regionPlain, false,
			[]string{"Sầm Sơn", "Bỉm Sơn", "Nghi Sơn", "Hoằng Hóa", "Hậu Lộc", "Nga Sơn", "Thọ Xuân", "Ngọc Lặc", "Cẩm Thủy", "Quan Hóa", "Như Xuân"}, ""},
		{ProvinceInfo{"40", "Nghệ An", "Nghe An", 19.20, 104.90}, false, "0238", "NA", regionPlain, false,
			[]string{"Cửa Lò", "Thái Hòa", "Hoàng Mai", "Diễn Châu", "Quỳnh Lưu", "Nghi Lộc", "Đô Lương", "Thanh Chương", "Con Cuông", "Tương Dương", "Kỳ Sơn"}, ""},
		{ProvinceInfo{"42", "Hà Tĩnh", "Ha Tinh", 18.35, 105.90}, false, "0239", "HT", regionPlain, false,
			[]string{"Hồng Lĩnh", "Kỳ Anh", "Hương Sơn", "Đức Thọ", "Can Lộc", "Thạch Hà", "Cẩm Xuyên", "Hương Khê"}, ""},
		{ProvinceInfo{"44", "Quảng Trị", "Quang Tri", 17.20, 106.60}, false, "0233", "QT", regionPlain, false,
			[]string{"Đông Hà", "Đồng Hới", "Ba Đồn", "Bố Trạch", "Lệ Thủy", "Tuyên Hóa", "Minh Hóa", "Vĩnh Linh", "Gio Linh", "Hướng Hóa", "Hải Lăng"}, ""},
		{ProvinceInfo{"46", "Huế", "Hue", 16.45, 107.55}, true, "0234", "TTH", regionCity, false,
			[]string{"Hương Thủy", "Hương Trà", "Phong Điền", "Quảng Điền", "Phú Vang", "Phú Lộc", "Nam Đông", "A Lưới"}, ""},
		{ProvinceInfo{"48", "Đà Nẵng", "Da Nang", 15.70, 108.00}, true, "0236", "ĐNa", regionCity, false,
			[]string{"Hòa Vang", "Liên Chiểu", "Tam Kỳ", "Hội An", "Điện Bàn", "Đại Lộc", "Thăng Bình", "Núi Thành", "Tiên Phước", "Nam Giang"}, ""},
		{ProvinceInfo{"51", "Quảng Ngãi", "Quang Ngai", 14.80, 108.30}, false, "0255", "QNg", regionPlain, false,
			[]string{"Bình Sơn", "Sơn Tịnh", "Tư Nghĩa", "Mộ Đức", "Đức Phổ", "Ba Tơ", "Lý Sơn", "Kon Tum", "Đắk Hà", "Đắk Tô", "Ngọc Hồi", "Kon Plông"}, ""},
		{ProvinceInfo{"52", "Gia Lai", "Gia Lai", 13.90, 108.50}, false, "0269", "GL", regionHighland, false,
			[]string{"Pleiku", "An Khê", "Ayun Pa", "Chư Sê", "Chư Prông", "Đức Cơ", "Ia Grai", "Kbang", "Quy Nhơn", "An Nhơn", "Hoài Nhơn", "Phù Cát", "Tây Sơn"}, "jra"},
		{ProvinceInfo{"56", "Khánh Hòa", "Khanh Hoa", 12.00, 108.95}, false, "0258", "KH", regionPlain, false,
			[]string{"Nha Trang", "Cam Ranh", "Ninh Hòa", "Vạn Ninh", "Diên Khánh", "Khánh Vĩnh", "Phan Rang", "Ninh Phước", "Ninh Sơn", "Thuận Bắc"}, ""},
		{ProvinceInfo{"66", "Đắk Lắk", "Dak Lak", 12.90, 108.50}, false, "0262", "ĐL", regionHighland, false,
			[]string{"Buôn Ma Thuột", "Buôn Hồ", "Ea Kar", "Krông Pắc", "Cư M'gar", "Ea H'leo", "Krông Búk", "Lắk", "M'Đrắk", "Tuy Hòa", "Sông Cầu", "Đông Hòa", "Sơn Hòa"}, "ede"},
		{ProvinceInfo{"68", "Lâm Đồng", "Lam Dong", 11.70, 108.00}, false, "0263", "LĐ", regionHighland, false,
			[]string{"Đà Lạt", "Bảo Lộc", "Đức Trọng", "Di Linh", "Lâm Hà", "Gia Nghĩa", "Đắk Mil", "Đắk R'lấp", "Phan Thiết", "La Gi", "Bắc Bình", "Hàm Thuận Bắc"}, ""},
		{ProvinceInfo{"75", "Đồng Nai", "Dong Nai", 11.30, 107.00}, false, "0251", "ĐN", regionSouth, false,
			[]string{"Biên Hòa", "Long Khánh", "Trảng Bom", "Long Thành", "Nhơn Trạch", "Định Quán", "Tân Phú", "Đồng Xoài", "Bình Long", "Phước Long", "Chơn Thành", "Lộc Ninh"}, ""},
		{ProvinceInfo{"79", "TP. Hồ Chí Minh", "Ho Chi Minh City", 10.80, 106.70}, true, "028", "HCM", regionCity, false,
			[]string{"Thủ Đức", "Củ Chi", "Hóc Môn", "Bình Chánh", "Nhà Bè", "Cần Giờ", "Thủ Dầu Một", "Dĩ An", "Thuận An", "Bến Cát", "Vũng Tàu", "Bà Rịa", "Côn Đảo"}, ""},
		{ProvinceInfo{"80", "Tây Ninh", "Tay Ninh", 10.95, 106.15}, false, "0276", "TNi", regionSouth, false,
			[]string{"Trảng Bàng", "Hòa Thành", "Gò Dầu", "Tân Biên", "Châu Thành", "Tân An", "Đức Hòa", "Bến Lức", "Cần Giuộc", "Mộc Hóa", "Kiến Tường"}, ""},
		{ProvinceInfo{"82", "Đồng Tháp", "Dong Thap", 10.45, 105.95}, false, "0277", "ĐT", regionSouth, false,
			[]string{"Cao Lãnh", "Sa Đéc", "Hồng Ngự", "Tháp Mười", "Lấp Vò", "Mỹ Tho", "Gò Công", "Cai Lậy", "Cái Bè", "Chợ Gạo"}, ""},
		{ProvinceInfo{"86", "Vĩnh Long", "Vinh Long", 10.00, 106.20}, false, "0270", "VL", regionSouth, true,
			[]string{"Bình Minh", "Trà Ôn", "Long Hồ", "Tam Bình", "Bến Tre", "Ba Tri", "Mỏ Cày", "Chợ Lách", "Trà Vinh", "Cầu Ngang", "Duyên Hải", "Tiểu Cần"}, ""},
		{ProvinceInfo{"91", "An Giang", "An Giang", 10.20, 105.10}, false, "0296", "AG", regionSouth, true,
			[]string{"Long Xuyên", "Châu Đốc", "Tân Châu", "Tịnh Biên", "Chợ Mới", "Rạch Giá", "Hà Tiên", "Phú Quốc", "Kiên Lương", "Tân Hiệp", "U Minh Thượng"}, ""},
		{ProvinceInfo{"92", "Cần Thơ", "Can Tho", 9.80, 105.80}, true, "0292", "CT", regionCity, true,
			[]string{"Ninh Kiều", "Cái Răng", "Ô Môn", "Thốt Nốt", "Phong Điền", "Vị Thanh", "Ngã Bảy", "Long Mỹ", "Sóc Trăng", "Vĩnh Châu", "Ngã Năm", "Kế Sách"}, ""},
		{ProvinceInfo{"96", "Cà Mau", "Ca Mau", 9.20, 105.20}, false, "0290", "CM", regionSouth, true,
			[]string{"Năm Căn", "Ngọc Hiển", "Đầm Dơi", "Trần Văn Thời", "U Minh", "Thới Bình", "Bạc Liêu", "Giá Rai", "Hồng Dân", "Phước Long", "Đông Hải"}, ""},
	}
}

// Provinces returns the 34 provinces and centrally-run cities, in code
// order, in a fresh slice.
func Provinces() []ProvinceInfo {
	t := provinceTable()
	out := make([]ProvinceInfo, len(t))
	for i, p := range t {
		out[i] = p.ProvinceInfo
	}
	return out
}

// ProvinceByCode returns the province with code.
func ProvinceByCode(code string) (ProvinceInfo, bool) {
	p, ok := lookup(code)
	return p.ProvinceInfo, ok
}

func lookup(code string) (province, bool) {
	for _, p := range provinceTable() {
		if p.Code == code {
			return p, true
		}
	}
	return province{}, false
}

// unknownProvince describes a code outside the table (a test network may
// use any code): generic names, centred on Viet Nam's middle.
func unknownProvince(code string) province {
	return province{
		ProvinceInfo: ProvinceInfo{Code: code, Name: "Tỉnh " + code, NameEN: "Province " + code, Lat: 16.05, Lon: 108.05},
		area:         "0236", abbr: "T" + code, region: regionPlain,
		areas: []string{"Bắc", "Nam", "Đông", "Tây", "Trung tâm", "Ven biển"},
	}
}
