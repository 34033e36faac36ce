package sample_test

import (
	"fmt"

	"github.com/moinha/moinha/consult/sample"
)

func ExampleProvince() {
	d := sample.Province("66", 1, sample.Small)
	fmt.Println(d.Province.Name, len(d.Facilities), "facilities")
	fmt.Println(d.Facilities[0].ID, d.Facilities[0].Name)
	fmt.Println(d.Schedules[3].Facility, d.Schedules[3].Hours["mon"])
	// Output:
	// Đắk Lắk 15 facilities
	// 66-BVDK Bệnh viện Đa khoa tỉnh Đắk Lắk
	// 66-TYT-001 [{07:00 11:30} {13:30 17:00}]
}
