package configs

import (
	"path/filepath"
	"testing"
)

func TestPlatformDirs(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	win := map[string]string{"LOCALAPPDATA": `C:\Users\ana\AppData\Local`, "PUBLIC": `D:\Users\Public`}
	xdg := map[string]string{"XDG_DATA_HOME": "/data/ana"}
	tests := []struct {
		goos         string
		env          map[string]string
		home         string
		data, public string
	}{
		{"linux", nil, "/home/ana", filepath.Join("/home/ana", ".local", "share", "servent"), filepath.Join("/home/ana", "Public")},
		{"linux", xdg, "/home/ana", filepath.Join("/data/ana", "servent"), filepath.Join("/home/ana", "Public")},
		{"linux", nil, "", "servent-data", "Public"},
		{"freebsd", xdg, "/home/ana", filepath.Join("/data/ana", "servent"), filepath.Join("/home/ana", "Public")},
		{"darwin", xdg, "/Users/ana", filepath.Join("/Users/ana", "Library", "Application Support", "servent"), filepath.Join("/Users/ana", "Public")},
		{"windows", win, `C:\Users\ana`, filepath.Join(win["LOCALAPPDATA"], "servent"), win["PUBLIC"]},
		{"windows", nil, "/home/ana", filepath.Join("/home/ana", "AppData", "Local", "servent"), `C:\Users\Public`},
		{"windows", nil, "", "servent-data", `C:\Users\Public`},
	}
	for _, tt := range tests {
		t.Run(tt.goos+"/"+tt.home, func(t *testing.T) {
			if got := dataDirFor(tt.goos, env(tt.env), tt.home); got != tt.data {
				t.Errorf("data dir = %q, want %q", got, tt.data)
			}
			if got := publicDirFor(tt.goos, env(tt.env), tt.home); got != tt.public {
				t.Errorf("public dir = %q, want %q", got, tt.public)
			}
		})
	}
}
