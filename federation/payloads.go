package federation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/moinha/moinha/federation/charter"
)

// MemberInfo is the payload of a member record: a node announces its
// certificate and where it listens. It is signed by the member itself (the
// record's envelope), and the certificate by an authority.
type MemberInfo struct {
	Certificate charter.Certificate `json:"certificate"`
	Addrs       []string            `json:"addrs"` // listen multiaddrs, without /p2p/
	Name        string              `json:"name"`
	Role        charter.Role        `json:"role"`
	Started     time.Time           `json:"started"`
}

// LeaveInfo is the payload of a leave record: the member ends its
// membership under the certificate Cert (a charter.Certificate ID). A new
// certificate admits it again.
type LeaveInfo struct {
	Cert     string    `json:"cert"`
	Province string    `json:"province"`
	Time     time.Time `json:"time"`
}

// maxAddrs bounds the addresses a member record may announce.
const maxAddrs = 32

// decodeJSON strictly unmarshals one JSON value (no unknown fields, no
// trailing data).
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data", errMalformed)
	}
	return nil
}

func decodeMemberInfo(payload []byte) (MemberInfo, []ma.Multiaddr, error) {
	var mi MemberInfo
	if err := decodeJSON(payload, &mi); err != nil {
		return MemberInfo{}, nil, err
	}
	if len(mi.Addrs) > maxAddrs {
		return MemberInfo{}, nil, fmt.Errorf("%w: too many addresses", errMalformed)
	}
	addrs := make([]ma.Multiaddr, 0, len(mi.Addrs))
	for _, s := range mi.Addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return MemberInfo{}, nil, fmt.Errorf("%w: address: %v", errMalformed, err)
		}
		addrs = append(addrs, a)
	}
	return mi, addrs, nil
}

func decodeLeaveInfo(payload []byte) (LeaveInfo, error) {
	var li LeaveInfo
	if err := decodeJSON(payload, &li); err != nil {
		return LeaveInfo{}, err
	}
	if li.Cert == "" || len(li.Cert) > 64 {
		return LeaveInfo{}, fmt.Errorf("%w: leave names no certificate", errMalformed)
	}
	return li, nil
}

func decodeRevocation(payload []byte) (charter.Revocation, error) {
	rev, err := charter.ParseRevocation(payload)
	if err != nil {
		return charter.Revocation{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return rev, nil
}
