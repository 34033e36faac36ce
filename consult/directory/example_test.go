package directory_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/storage"
)

func ExampleService_ListFacilities() {
	dir, err := os.MkdirTemp("", "moinha-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := storage.Open(filepath.Join(dir, "node.db"), nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	ctx := context.Background()
	d := directory.New(db, "66", nil) // Đắk Lắk; nil: a lone node that replicates nothing
	for _, f := range []directory.Facility{
		{Code: "BVDK", Name: "Bệnh viện Đa khoa tỉnh Đắk Lắk", Level: consult.ProvincialHospital},
		{Code: "TYT-EAKAO", Name: "Trạm Y tế xã Ea Kao", Level: consult.CommuneHealthStation},
	} {
		if _, err := d.PutFacility(ctx, "admin", f); err != nil {
			panic(err)
		}
	}
	found, next, err := d.ListFacilities(directory.FacilityFilter{Q: "dak lak"}, 10, "")
	if err != nil {
		panic(err)
	}
	for _, f := range found {
		fmt.Println(f.ID, f.Name)
	}
	fmt.Printf("next=%q\n", next)
	// Output:
	// 66-BVDK Bệnh viện Đa khoa tỉnh Đắk Lắk
	// next=""
}
