package directory

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The query fast path (inSearch) relies on the stored layout: the search
// field first, and no '"' inside folded text.
func TestStoredLayout(t *testing.T) {
	f := &Facility{ID: "66-A", Code: "A", Name: `Trạm "Ea Kao" <1> & 2`, Commune: "Ea\u2028Kao"}
	b, err := json.Marshal(newStoredFacility(f))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), searchMarker), string(b))
	p := &Practitioner{ID: "66-p", Name: "H'Linh \"Niê\"", Licence: "12/ĐL"}
	b, err = json.Marshal(newStoredPractitioner(p))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), searchMarker), string(b))

	for _, s := range []string{`a"b`, "x\\y", "\u2028", "<>&", "\x00\"\n"} {
		assert.NotContains(t, Fold(s), `"`)
		assert.NotContains(t, string(jsonInner(Fold(s))), `"`)
	}
}

func TestInSearch(t *testing.T) {
	v := append([]byte{1}, `{"search":"tram ea kao\nthon 3","id":"66-A","name":"Trạm Ea Kao"}`...)
	assert.True(t, inSearch(v, []byte("ea kao")))
	assert.True(t, inSearch(v, []byte(`kao\nthon`)))
	assert.False(t, inSearch(v, []byte("66 a")), "only the search field counts")
	// A value without the layout is searched whole: never a false negative.
	assert.True(t, inSearch([]byte(`{"id":"x","search":"tram"}`), []byte("tram")))
}
