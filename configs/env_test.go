package configs

import (
	"slices"
	"strings"
	"testing"
)

func TestUnknownEnv(t *testing.T) {
	env := []string{"HOME=/root", "SERVENT_DATA=/tmp/x", "SERVENT_SHARE=/srv", "SERVENT_SHARES=/a,/b",
		"SERVENT_KEY_FILE=k", "SERVENT_TTL=3", "SERVENT_Ttl=3", "SERVENT_=x", "XSERVENT_FOO=1", "SERVENT_LOGLEVEL=debug"}
	want := []string{"SERVENT_", "SERVENT_LOGLEVEL", "SERVENT_SHARE", "SERVENT_Ttl"}
	if got := UnknownEnv(env); !slices.Equal(got, want) {
		t.Fatalf("UnknownEnv = %q, want %q", got, want)
	}
	var every []string
	for _, k := range Keys() {
		every = append(every, "SERVENT_"+strings.ToUpper(k)+"=1")
	}
	if got := UnknownEnv(every); len(got) != 0 {
		t.Fatalf("known keys reported as unknown: %q", got)
	}
}
