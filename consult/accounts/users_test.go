package accounts_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/accounts"
)

func TestAddUserValidation(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	tests := []struct {
		name, username, password string
		role                     consult.Role
		facility                 string
		code                     string
	}{
		{"ok", "lan.nguyen-2_b", pw, consult.RoleStaff, "66-TYT-001", ""},
		{"short username", "ab", pw, consult.RoleStaff, "", "invalid_username"},
		{"long username", strings.Repeat("a", 33), pw, consult.RoleStaff, "", "invalid_username"},
		{"32 is fine", strings.Repeat("a", 32), pw, consult.RoleStaff, "", ""},
		{"upper case", "Lan", pw, consult.RoleStaff, "", "invalid_username"},
		{"slash", "a/b", pw, consult.RoleStaff, "", "invalid_username"},
		{"vietnamese", "lành", pw, consult.RoleStaff, "", "invalid_username"},
		{"bad role", "lan", pw, "superuser", "", "invalid_role"},
		{"empty role", "lan", pw, "", "", "invalid_role"},
		{"control in facility", "lan", pw, consult.RoleStaff, "a\nb", "invalid_facility"},
		{"9 characters", "lan", "123456789", consult.RoleStaff, "", "invalid_password"},
		{"10 characters", "lan", "1234567890", consult.RoleStaff, "", ""},
		{"9 Vietnamese characters (many bytes)", "lan", "Ngườiệệệệ", consult.RoleStaff, "", "invalid_password"},
		{"10 Vietnamese characters", "lan", "Ngườiệệệệệ", consult.RoleStaff, "", ""},
		{"128 characters", "lan", strings.Repeat("ư", 128), consult.RoleStaff, "", ""},
		{"129 characters", "lan", strings.Repeat("ư", 129), consult.RoleStaff, "", "invalid_password"},
		{"equal to username", "lan.nguyen.1", "lan.nguyen.1", consult.RoleStaff, "", "invalid_password"},
		{"username, other case", "lan.nguyen.1", "LAN.NGUYEN.1", consult.RoleStaff, "", "invalid_password"},
		{"bad UTF-8", "lan", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6", consult.RoleStaff, "", "invalid_password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := e.svc.AddUser(ctx(t), "admin", tt.username, tt.password, tt.role, tt.facility)
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.username, u.Username)
				assert.Empty(t, u.PasswordHash)
				return
			}
			requireCode(t, err, consult.ErrInvalid, tt.code)
		})
	}
}

// Vietnamese keyboards send precomposed or combining diacritics; both are
// the same password.
func TestPasswordNormalisation(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	composed := "Bệnh viện Đa khoa"                           // U+1EC7 …
	decomposed := "Be\u0323\u0302nh vie\u0323\u0302n Đa khoa" // e + dot below + circumflex
	require.NotEqual(t, composed, decomposed)
	e.addUser("staff", composed, consult.RoleStaff)
	_, _, err := e.svc.Login(ctx(t), "staff", decomposed)
	require.NoError(t, err)
}

func TestAddUserCreatesThenUpdates(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	created := e.addUser("lan", pw, consult.RoleStaff)
	assert.True(t, created.Created.Equal(e.clock.Now()))

	// Lock the account, then an admin resets the password: unlocked.
	for range accounts.LockAfter {
		_, _, _ = e.svc.Login(ctx(t), "lan", "wrong password")
	}
	require.False(t, e.stored("lan").LockedUntil.IsZero())
	e.clock.Advance(1)
	updated, err := e.svc.AddUser(ctx(t), "admin", "lan", "một mật khẩu mới", consult.RoleDoctor, "66-BV-01")
	require.NoError(t, err)
	assert.True(t, updated.Created.Equal(created.Created))
	assert.True(t, updated.Updated.After(created.Updated))
	assert.Equal(t, consult.RoleDoctor, updated.Role)
	s := e.stored("lan")
	assert.Zero(t, s.Failures)
	assert.True(t, s.LockedUntil.IsZero())
	_, _, err = e.svc.Login(ctx(t), "lan", "một mật khẩu mới")
	require.NoError(t, err)

	entries, err := e.db.AuditEntries(0, 0)
	require.NoError(t, err)
	var mine []string
	for _, a := range entries {
		if strings.HasPrefix(a.Action, "user.create") || strings.HasPrefix(a.Action, "user.update") {
			mine = append(mine, a.Actor+" "+a.Action+" "+a.Subject+" "+a.Detail)
		}
	}
	assert.Equal(t, []string{"test user.create user:lan role=staff", "admin user.update user:lan role=doctor"}, mine)
	for _, a := range entries {
		assert.NotContains(t, a.Detail, "mật khẩu")
	}
}

func TestGetListDeleteUsers(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("minh", pw, consult.RoleDoctor)
	e.addUser("admin", pw, consult.RoleAdmin)

	users, err := e.svc.ListUsers()
	require.NoError(t, err)
	require.Len(t, users, 2)
	assert.Equal(t, "admin", users[0].Username)
	assert.Equal(t, "minh", users[1].Username)
	for _, u := range users {
		assert.Empty(t, u.PasswordHash, "hashes are not handed out")
	}
	u, err := e.svc.GetUser("minh")
	require.NoError(t, err)
	assert.Equal(t, consult.RoleDoctor, u.Role)
	assert.Empty(t, u.PasswordHash)
	_, err = e.svc.GetUser("nobody")
	requireCode(t, err, consult.ErrNotFound, "user_not_found")

	require.NoError(t, e.svc.DeleteUser(ctx(t), "admin", "minh"))
	_, err = e.svc.GetUser("minh")
	requireCode(t, err, consult.ErrNotFound, "user_not_found")
	requireCode(t, e.svc.DeleteUser(ctx(t), "admin", "minh"), consult.ErrNotFound, "user_not_found")
	assert.Contains(t, e.auditActions(), "user.delete user:minh")
}
