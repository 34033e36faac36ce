package directory

import (
	"errors"

	"github.com/moinha/moinha/consult"
)

// Record kinds this package replicates and applies.
const (
	KindFacility     = "facility"
	KindPractitioner = "practitioner"
)

// ErrUnknownKind is returned by ApplyRemote for a kind this package does
// not own; match it with errors.Is.
var ErrUnknownKind = errors.New("directory: unknown record kind")

func errFacilityNotFound(id string) error {
	return consult.Errorf(consult.ErrNotFound, "facility_not_found", "no facility %.80q", id)
}

func errPractitionerNotFound(id string) error {
	return consult.Errorf(consult.ErrNotFound, "practitioner_not_found", "no health worker %.80q", id)
}

func errNotOwn(what, id string) error {
	return consult.Errorf(consult.ErrForbidden, what+"_not_own",
		"%s %.80q belongs to another province; only its own node may change it", what, id)
}
