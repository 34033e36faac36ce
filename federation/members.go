package federation

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/moinha/moinha/federation/charter"
)

// Member is one member of the network as this node sees it.
type Member struct {
	Peer     peer.ID
	Province string
	Name     string
	Role     charter.Role
	Online   bool      // connected to this node and past the hello
	LastSeen time.Time // last time it was connected to this node (zero: never)
	Left     bool      // it left under its current certificate
	Revoked  bool      // an authority revoked it
	Addrs    []ma.Multiaddr
}

// memberState is everything known about one peer. Its facts come from
// verified records (member, leave, revocation) or from a hello, and stay
// true whether or not the record carrying them was committed, so learning
// one twice changes nothing.
type memberState struct {
	cert     charter.Certificate
	certID   string
	hasCert  bool
	version  uint64 // version of the member record the certificate came from
	addrs    []ma.Multiaddr
	leftCert string // ID of the certificate a leave ended
	revoked  bool
	online   bool
	lastSeen time.Time
}

func (st *memberState) left() bool { return st.hasCert && st.leftCert == st.certID }

func (st *memberState) admitted(now time.Time) bool {
	return st.hasCert && !st.revoked && !st.left() &&
		!now.Before(st.cert.NotBefore) && now.Before(st.cert.NotAfter)
}

// eventKind says what changed in the membership.
type eventKind int

const (
	evJoined  eventKind = iota // a peer became a member (or got new addresses)
	evRevoked                  // a peer was revoked
	evLeft                     // a peer left
)

type memberEvent struct {
	kind     eventKind
	peer     peer.ID
	province string
	addrs    []ma.Multiaddr
}

// membership is the in-memory table of peers, the source of truth for the
// connection gater, the validators and Members. It is rebuilt from the
// stored membership records on start.
type membership struct {
	// notify is called with each state change; it must not block.
	notify func(memberEvent)

	mu    sync.RWMutex // guards peers
	peers map[peer.ID]*memberState
}

func newMembership(notify func(memberEvent)) *membership {
	return &membership{notify: notify, peers: make(map[peer.ID]*memberState)}
}

// state returns p's entry, creating it. Callers hold mu for writing.
func (m *membership) state(p peer.ID) *memberState {
	st := m.peers[p]
	if st == nil {
		st = &memberState{}
		m.peers[p] = st
	}
	return st
}

// learnMember records that p holds cert (verified by the caller), announced
// in its member record of the given version with addrs.
func (m *membership) learnMember(p peer.ID, cert charter.Certificate, version uint64, addrs []ma.Multiaddr, now time.Time) {
	m.mu.Lock()
	st := m.state(p)
	if st.hasCert && version <= st.version {
		m.mu.Unlock()
		return
	}
	wasAdmitted := st.admitted(now)
	oldAddrs := st.addrs
	st.cert, st.certID, st.hasCert, st.version, st.addrs = cert, cert.ID(), true, version, addrs
	changed := st.admitted(now) && (!wasAdmitted || !slices.EqualFunc(oldAddrs, addrs, ma.Multiaddr.Equal))
	m.mu.Unlock()
	if changed && m.notify != nil {
		m.notify(memberEvent{kind: evJoined, peer: p, province: cert.Province, addrs: addrs})
	}
}

// setOwnCert makes cert this node's certificate whatever stored records
// said (a node restarted with a renewed certificate).
func (m *membership) setOwnCert(self peer.ID, cert charter.Certificate) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.state(self)
	st.cert, st.certID, st.hasCert = cert, cert.ID(), true
}

// learnRevocation records that p is revoked.
func (m *membership) learnRevocation(p peer.ID) {
	m.mu.Lock()
	st := m.state(p)
	if st.revoked {
		m.mu.Unlock()
		return
	}
	st.revoked = true
	province := ""
	if st.hasCert {
		province = st.cert.Province
	}
	m.mu.Unlock()
	if m.notify != nil {
		m.notify(memberEvent{kind: evRevoked, peer: p, province: province})
	}
}

// learnLeave records that p left under the certificate certID.
func (m *membership) learnLeave(p peer.ID, certID string) {
	m.mu.Lock()
	st := m.state(p)
	if st.leftCert == certID {
		m.mu.Unlock()
		return
	}
	st.leftCert = certID
	fire := st.left()
	province := st.cert.Province
	m.mu.Unlock()
	if fire && m.notify != nil {
		m.notify(memberEvent{kind: evLeft, peer: p, province: province})
	}
}

// admitted reports whether p may connect and write: a valid certificate,
// not revoked, not left.
func (m *membership) admitted(p peer.ID, now time.Time) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st := m.peers[p]
	return st != nil && st.admitted(now)
}

// revoked reports whether p is revoked.
func (m *membership) revoked(p peer.ID) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st := m.peers[p]
	return st != nil && st.revoked
}

// cert returns p's known certificate and whether p left under it.
func (m *membership) cert(p peer.ID) (c charter.Certificate, ok, left, revoked bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st := m.peers[p]
	if st == nil {
		return charter.Certificate{}, false, false, false
	}
	return st.cert, st.hasCert, st.left(), st.revoked
}

// leftCert returns the ID of the certificate p left under ("" if none).
func (m *membership) leftCert(p peer.ID) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if st := m.peers[p]; st != nil {
		return st.leftCert
	}
	return ""
}

// addrs returns p's announced addresses.
func (m *membership) addrs(p peer.ID) []ma.Multiaddr {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if st := m.peers[p]; st != nil {
		return st.addrs
	}
	return nil
}

// provinceHasOther reports whether a member other than p, admitted at now,
// has province code province.
func (m *membership) provinceHasOther(p peer.ID, province string, now time.Time) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for q, st := range m.peers {
		if q != p && st.admitted(now) && st.cert.Province == province {
			return true
		}
	}
	return false
}

// setOnline marks p connected (past the hello) or not, at now.
func (m *membership) setOnline(p peer.ID, online bool, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.state(p)
	st.online = online
	st.lastSeen = now
}

// setLastSeen restores a persisted last-seen time.
func (m *membership) setLastSeen(p peer.ID, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.state(p)
	if t.After(st.lastSeen) {
		st.lastSeen = t
	}
}

// admittedPeers lists the admitted members other than self.
func (m *membership) admittedPeers(self peer.ID, now time.Time) []peer.ID {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []peer.ID
	for p, st := range m.peers {
		if p != self && st.admitted(now) {
			out = append(out, p)
		}
	}
	return out
}

// list returns every peer with a known certificate, by province then peer.
func (m *membership) list() []Member {
	m.mu.RLock()
	out := make([]Member, 0, len(m.peers))
	for p, st := range m.peers {
		if !st.hasCert {
			continue
		}
		out = append(out, Member{
			Peer:     p,
			Province: st.cert.Province,
			Name:     st.cert.Name,
			Role:     st.cert.Role,
			Online:   st.online,
			LastSeen: st.lastSeen,
			Left:     st.left(),
			Revoked:  st.revoked,
			Addrs:    slices.Clone(st.addrs),
		})
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Member) int {
		if c := strings.Compare(a.Province, b.Province); c != 0 {
			return c
		}
		return strings.Compare(string(a.Peer), string(b.Peer))
	})
	return out
}
