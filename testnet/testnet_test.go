package testnet_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/testnet"
	"github.com/moinha/moinha/testnet/testnettest"
)

const waitLong = 90 * time.Second

func addFacility(t *testing.T, nd *testnet.Node, code string) directory.Facility {
	t.Helper()
	f, err := nd.Directory().PutFacility(context.Background(), "admin", directory.Facility{
		Code: code, Name: "Trạm Y tế xã Thử Nghiệm " + code, Level: consult.CommuneHealthStation,
		Commune: "xã Thử Nghiệm", Specialties: []string{"general_practice"},
	})
	require.NoError(t, err)
	return f
}

// seenEverywhere waits until every running node's directory holds f as
// written (or, with gone, no longer holds it).
func seenEverywhere(t *testing.T, net *testnet.Net, id, name string, gone bool) {
	t.Helper()
	testnettest.Eventually(t, waitLong, "directory change reaches every node", func() (bool, error) {
		for _, nd := range net.Running() {
			f, err := nd.Directory().GetFacility(id)
			if gone != (err != nil) || (!gone && f.Name != name) {
				return false, nil
			}
		}
		return true, nil
	})
}

func TestSixteenNodesConvergeOnEveryChange(t *testing.T) {
	net := testnettest.Start(t, testnet.Options{Provinces: 16})
	testnettest.WaitConverged(t, net, waitLong)

	// A new facility, its update and its removal each reach all 16.
	f := addFacility(t, net.Nodes[5], "NEW-1")
	seenEverywhere(t, net, f.ID, f.Name, false)
	f.Name = "Trạm Y tế xã Thử Nghiệm (đã đổi tên)"
	_, err := net.Nodes[5].Directory().PutFacility(context.Background(), "admin", f)
	require.NoError(t, err)
	seenEverywhere(t, net, f.ID, f.Name, false)
	require.NoError(t, net.Nodes[5].Directory().DeleteFacility(context.Background(), "admin", f.ID))
	seenEverywhere(t, net, f.ID, "", true)
	testnettest.WaitConverged(t, net, waitLong)
}

func TestLateJoinerGetsEverything(t *testing.T) {
	net := testnettest.Start(t, testnet.Options{Provinces: 3})
	testnettest.WaitConverged(t, net, waitLong)
	addFacility(t, net.Nodes[1], "BEFORE-JOIN")

	late, err := net.AddProvince(context.Background()) // bootstraps from node 0 only
	require.NoError(t, err)
	testnettest.WaitConverged(t, net, waitLong)
	_, err = late.Directory().GetFacility(net.Nodes[1].Province + "-BEFORE-JOIN")
	require.NoError(t, err)
	// It learnt every member's address from gossip and connects to all.
	require.NoError(t, net.WaitConnected(context.Background(), waitLong, 3))
}

func TestPartitionHeals(t *testing.T) {
	net := testnettest.Start(t, testnet.Options{Provinces: 4})
	testnettest.WaitConverged(t, net, waitLong)
	left, right := []int{0, 1}, []int{2, 3}
	net.Partition(left, right)

	a := addFacility(t, net.Nodes[0], "LEFT-SIDE")
	b := addFacility(t, net.Nodes[3], "RIGHT-SIDE")
	// Each side sees its own change; the other side cannot.
	testnettest.Eventually(t, waitLong, "change spreads within a side", func() (bool, error) {
		_, err1 := net.Nodes[1].Directory().GetFacility(a.ID)
		_, err2 := net.Nodes[2].Directory().GetFacility(b.ID)
		return err1 == nil && err2 == nil, nil
	})
	_, err := net.Nodes[2].Directory().GetFacility(a.ID)
	require.Error(t, err, "a partitioned node saw the other side's change")

	net.Heal(left, right)
	seenEverywhere(t, net, a.ID, a.Name, false)
	seenEverywhere(t, net, b.ID, b.Name, false)
	testnettest.WaitConverged(t, net, waitLong)
}

func TestLeaveRemovesTheProvinceEverywhere(t *testing.T) {
	net := testnettest.Start(t, testnet.Options{Provinces: 3})
	testnettest.WaitConverged(t, net, waitLong)
	leaver := net.Nodes[2]
	require.NoError(t, leaver.Leave(context.Background()))
	testnettest.Eventually(t, waitLong, "leaver's facilities disappear", func() (bool, error) {
		for _, nd := range net.Nodes[:2] {
			f, p, err := nd.Directory().Counts(leaver.Province)
			if err != nil || f+p != 0 {
				return false, err
			}
		}
		return true, nil
	})
	for _, nd := range net.Nodes[:2] {
		for _, m := range nd.Federation().Members() {
			if m.Province == leaver.Province {
				require.True(t, m.Left)
			}
		}
	}
}

func TestKilledNodeCatchesUpAfterRestart(t *testing.T) {
	net := testnettest.Start(t, testnet.Options{Provinces: 3})
	testnettest.WaitConverged(t, net, waitLong)
	require.NoError(t, net.Kill(1))
	f := addFacility(t, net.Nodes[0], "WHILE-AWAY")

	// The others show it offline, with a last-seen time.
	testnettest.Eventually(t, waitLong, "killed node shown offline", func() (bool, error) {
		for _, m := range net.Nodes[2].Federation().Members() {
			if m.Province == net.Nodes[1].Province {
				return !m.Online && !m.LastSeen.IsZero(), nil
			}
		}
		return false, nil
	})
	require.NoError(t, net.Restart(context.Background(), 1))
	seenEverywhere(t, net, f.ID, f.Name, false)
	testnettest.WaitConverged(t, net, waitLong)
}

func TestObserverSyncsButCannotWrite(t *testing.T) {
	net := testnettest.Start(t, testnet.Options{Provinces: 2, Observer: true})
	testnettest.WaitConverged(t, net, waitLong)
	obs := net.Nodes[2]
	require.Equal(t, "observer", obs.Role)
	for _, nd := range net.Nodes[:2] {
		f, _, err := obs.Directory().Counts(nd.Province)
		require.NoError(t, err)
		require.Positive(t, f, "the observer holds the public directory")
	}
	_, err := obs.Directory().PutFacility(context.Background(), "admin", directory.Facility{
		Code: "OBS", Name: "Không được phép", Level: consult.CommuneHealthStation})
	require.Error(t, err, "an observer node must not write directory records")
}
