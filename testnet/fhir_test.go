package testnet_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/internal/fhirvalid"
	"github.com/moinha/moinha/testnet"
	"github.com/moinha/moinha/testnet/testnettest"
)

// fhirGet fetches a FHIR document from a node as cl's user, requires
// status, runs it through the independent R4 validator and returns it.
func fhirGet(t *testing.T, v *fhirvalid.Validator, cl *refClient, path string, status int) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", cl.base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+cl.token)
	res, err := cl.c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var raw json.RawMessage
	require.NoError(t, json.NewDecoder(res.Body).Decode(&raw))
	require.Equal(t, status, res.StatusCode, "GET %s: %s", path, raw)
	require.Contains(t, res.Header.Get("Content-Type"), "application/fhir+json")
	require.NoError(t, v.Validate(raw), "GET %s: %s", path, raw)
	return raw
}

type fhirBundle struct {
	Link []struct {
		Relation, URL string
	} `json:"link"`
	Entry []struct {
		Resource struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		} `json:"resource"`
		Request struct{ Method, URL string } `json:"request"`
	} `json:"entry"`
}

// fhirWalk follows next links and returns every entry's "Type/id" (a
// history's deletion as "DELETE Type/id").
func fhirWalk(t *testing.T, v *fhirvalid.Validator, cl *refClient, path string) []string {
	t.Helper()
	var out []string
	for path != "" {
		var b fhirBundle
		require.NoError(t, json.Unmarshal(fhirGet(t, v, cl, path, http.StatusOK), &b))
		for _, e := range b.Entry {
			if e.Request.Method == "DELETE" {
				out = append(out, "DELETE "+e.Request.URL)
				continue
			}
			out = append(out, e.Resource.ResourceType+"/"+e.Resource.ID)
		}
		path = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				u, err := url.Parse(l.URL)
				require.NoError(t, err)
				path = u.RequestURI()
			}
		}
	}
	return out
}

// TestFHIRFederatedDirectory: node A's mCSD directory holds province B's
// facilities (exactly B's own list), and A's _history?_since pulls B's
// later change.
func TestFHIRFederatedDirectory(t *testing.T) {
	v := fhirvalid.ForTest(t)
	net := testnettest.Start(t, testnet.Options{Provinces: 2})
	testnettest.WaitConverged(t, net, waitLong)
	a, b := net.Nodes[0], net.Nodes[1]
	cl := refLogin(t, a, "doctor")

	var want []string
	cursor := ""
	for {
		page, next, err := b.Directory().ListFacilities(directory.FacilityFilter{Province: b.Province}, 500, cursor)
		require.NoError(t, err)
		for _, f := range page {
			want = append(want, "Organization/"+strings.ReplaceAll(f.ID, "_", "."))
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	require.NotEmpty(t, want)
	got := fhirWalk(t, v, cl, "/fhir/Organization?_count=17&partof=Organization/province."+b.Province)
	slices.Sort(want)
	slices.Sort(got)
	assert.Equal(t, want, got, "A lists B's facilities, each once")
	fhirGet(t, v, cl, "/fhir/Organization/province."+b.Province, http.StatusOK)
	fhirGet(t, v, cl, "/fhir/Endpoint/node."+b.PeerID(), http.StatusOK)
	assert.Contains(t, fhirWalk(t, v, cl, "/fhir/Location?address-state="+b.Province+"&_count=200"),
		strings.Replace(want[0], "Organization/", "Location/", 1))

	// B changes a facility; A's history since before the change pulls it.
	mark := time.Now().UTC()
	fs, _, err := b.Directory().ListFacilities(directory.FacilityFilter{Province: b.Province}, 1, "")
	require.NoError(t, err)
	f := fs[0]
	f.ID, f.Phone = "", "02363888777"
	_, err = b.Directory().PutFacility(context.Background(), "test", f)
	require.NoError(t, err)
	id := strings.ReplaceAll(fs[0].ID, "_", ".")
	path := "/fhir/Organization/_history?_since=" + url.QueryEscape(mark.Format(time.RFC3339Nano))
	testnettest.Eventually(t, waitLong, "A's history shows B's change", func() (bool, error) {
		return slices.Contains(fhirWalk(t, v, cl, path), "Organization/"+id), nil
	})
	assert.Equal(t, []string{"Organization/" + id}, fhirWalk(t, v, cl, path), "nothing else changed")
	assert.Contains(t, string(fhirGet(t, v, cl, "/fhir/Organization/"+id, http.StatusOK)), "02363888777")

	// B deletes a health worker; A's history shows the deletion.
	mark = time.Now().UTC()
	ps, _, err := b.Directory().ListPractitioners(directory.PractitionerFilter{Province: b.Province}, 1, "")
	require.NoError(t, err)
	require.NoError(t, b.Directory().DeletePractitioner(context.Background(), "test", ps[0].ID))
	pid := strings.ReplaceAll(ps[0].ID, "_", ".")
	path = "/fhir/Practitioner/_history?_since=" + url.QueryEscape(mark.Format(time.RFC3339Nano))
	testnettest.Eventually(t, waitLong, "A's history shows B's deletion", func() (bool, error) {
		return slices.Contains(fhirWalk(t, v, cl, path), "DELETE Practitioner/"+pid), nil
	})
	assert.Equal(t, []string{"DELETE Practitioner/" + pid}, fhirWalk(t, v, cl, path), "nothing else changed")
	fhirGet(t, v, cl, "/fhir/Practitioner/"+pid, http.StatusNotFound)
}

// TestFHIRReferralMinimumNecessary: the candidate province's ServiceRequest
// carries no patient identity until it accepts; the Task's owner is the
// acceptor.
func TestFHIRReferralMinimumNecessary(t *testing.T) {
	v := fhirvalid.ForTest(t)
	net := refNet(t, 2, false, nil)
	a, b := net.Nodes[0], net.Nodes[1]
	created := newReferral(t, a, b.Province, referral.UrgencyUrgent)
	waitStatus(t, b, created.ID, referral.StatusReceived)
	doctorB := refLogin(t, b, "doctor")

	offered := string(fhirGet(t, v, doctorB, "/fhir/ServiceRequest/"+created.ID, http.StatusOK))
	for _, secret := range []string{refPatient.Name, refPatient.Phone, refPatient.IDNumber} {
		assert.NotContains(t, offered, secret, "the offer shows no patient identity")
	}
	assert.Contains(t, offered, `"gender":"female"`)
	fhirGet(t, v, doctorB, "/fhir/Task/"+created.ID, http.StatusOK)

	doctorB.must(http.StatusAccepted, "POST", "/api/v1/referrals/"+created.ID+"/accept", nil, nil)
	waitStatus(t, a, created.ID, referral.StatusAccepted)
	testnettest.Eventually(t, waitLong, "the record reaches B", func() (bool, error) {
		v, ok := getRef(t, b, created.ID)
		return ok && v.Patient != nil, nil
	})
	accepted := string(fhirGet(t, v, doctorB, "/fhir/ServiceRequest/"+created.ID, http.StatusOK))
	assert.Contains(t, accepted, refPatient.Name, "the acceptor sees the patient")
	var task struct {
		Status string `json:"status"`
		Owner  struct{ Reference string }
	}
	require.NoError(t, json.Unmarshal(fhirGet(t, v, refLogin(t, a, "staff"), "/fhir/Task/"+created.ID, http.StatusOK), &task))
	assert.Equal(t, "accepted", task.Status)
	assert.Equal(t, "Organization/province."+b.Province, task.Owner.Reference)

	// Observers and other roles get an OperationOutcome.
	fhirGet(t, v, refLogin(t, b, "admin"), "/fhir/ServiceRequest/"+created.ID, http.StatusForbidden)
}
