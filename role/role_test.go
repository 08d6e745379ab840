package role

import "testing"

func TestStringAndParse(t *testing.T) {
	for _, c := range []struct {
		r    Role
		name string
	}{{None, "none"}, {Leaf, "leaf"}, {Ultrapeer, "ultrapeer"}, {Flood, "flood"}, {Role(9), "role(9)"}} {
		if got := c.r.String(); got != c.name {
			t.Errorf("%d.String() = %q, want %q", uint8(c.r), got, c.name)
		}
	}
	for s, want := range map[string]Role{"auto": None, "leaf": Leaf, "ultrapeer": Ultrapeer} {
		if got, err := Parse(s); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "flood", "none", "Leaf"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}

// TestWireValues pins the metadata role byte (docs/PROTOCOL.md section 10).
func TestWireValues(t *testing.T) {
	if None != 0 || Leaf != 1 || Ultrapeer != 2 || Flood != 3 {
		t.Fatal("role values changed: they are the metadata's role byte")
	}
}
