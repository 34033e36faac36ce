package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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

// Encoded is a value encoded ahead of time by Encode, codec byte included.
// Tx.Put stores it as it is, without encoding it again, so that callers
// can do the encoding before Update, outside the single writer goroutine.
// It is immutable: one Encoded may be put any number of times, also by an
// Update fn that runs more than once.
type Encoded struct{ b []byte }

// Encode encodes v as Tx.Put would store it.
func Encode(v any) (Encoded, error) {
	b, err := encode(v)
	if err != nil {
		return Encoded{}, err
	}
	return Encoded{b: b}, nil
}

// EncodedJSON returns the Encoded of a value whose JSON encoding, exactly
// as json.Marshal writes it, is the concatenation of parts. Put stores it
// unchecked, so a caller that builds JSON itself (e.g. splices a field
// into bytes it encoded earlier) must get it right. parts are copied.
func EncodedJSON(parts ...[]byte) Encoded {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 1, n)
	b[0] = codecVersion
	for _, p := range parts {
		b = append(b, p...)
	}
	return Encoded{b: b}
}

// Len is the size of the encoded value in bytes, codec byte included.
func (e Encoded) Len() int { return len(e.b) }

var errEmptyEncoded = errors.New("storage: put of a zero Encoded (use Encode)")

// appendInt appends n as Put would encode it: the codec byte and n as a
// JSON number.
func appendInt(dst []byte, n int64) []byte {
	return strconv.AppendInt(append(dst, codecVersion), n, 10)
}

// parseInt reads a value that Put stored from an integer. It parses the
// canonical form (what appendInt and json.Marshal write) directly and
// leaves anything else to the JSON decoder.
func parseInt(v Value) (int64, error) {
	if len(v) >= 2 && len(v) <= 19 && v[0] == codecVersion {
		digits := v[1:]
		neg := digits[0] == '-'
		if neg {
			digits = digits[1:]
		}
		n, ok := int64(0), len(digits) > 0 && (digits[0] != '0' || len(digits) == 1)
		for _, c := range digits {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			if neg {
				n = -n
			}
			return n, nil
		}
	}
	var n int64
	err := v.Decode(&n)
	return n, err
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
