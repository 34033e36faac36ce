package storage

import (
	"encoding/json"
	"fmt"
)

// codecVersion prefixes every stored value so that the encoding can change
// without guessing. Version 1 is JSON.
const codecVersion byte = 1

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("storage: encode: %w", err)
	}
	out := make([]byte, 0, len(b)+1)
	out = append(out, codecVersion)
	return append(out, b...), nil
}

// Value is a stored value as seen during a Scan. It is valid only inside
// the callback that received it.
type Value []byte

// Decode unmarshals the value into dst (a pointer). It copies, so dst
// outlives the transaction.
func (v Value) Decode(dst any) error {
	if len(v) < 1 || v[0] != codecVersion {
		return fmt.Errorf("%w: codec version", ErrBadValue)
	}
	if err := json.Unmarshal(v[1:], dst); err != nil {
		return fmt.Errorf("%w: %v", ErrBadValue, err)
	}
	return nil
}
