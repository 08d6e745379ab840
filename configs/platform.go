package configs

import (
	"os"
	"path/filepath"
	"runtime"
)

// DefaultDataDir is where servent keeps its state when the data key is
// empty, by the platform's convention: $XDG_DATA_HOME/servent or
// ~/.local/share/servent on Linux and other unix systems,
// ~/Library/Application Support/servent on macOS, %LocalAppData%\servent on
// Windows; ./servent-data when no home directory is known.
func DefaultDataDir() string {
	home, _ := os.UserHomeDir()
	return dataDirFor(runtime.GOOS, os.Getenv, home)
}

func dataDirFor(goos string, getenv func(string) string, home string) string {
	var base string
	switch goos {
	case "windows":
		base = getenv("LOCALAPPDATA")
		if base == "" && home != "" {
			base = filepath.Join(home, "AppData", "Local")
		}
	case "darwin", "ios":
		if home != "" {
			base = filepath.Join(home, "Library", "Application Support")
		}
	default:
		base = getenv("XDG_DATA_HOME")
		if base == "" && home != "" {
			base = filepath.Join(home, ".local", "share")
		}
	}
	if base == "" {
		return "servent-data"
	}
	return filepath.Join(base, "servent")
}

// PublicDir is the platform's folder for files meant for everyone, the
// natural folder to share: ~/Public on Linux and macOS, %PUBLIC%
// (C:\Users\Public) on Windows. It is a suggestion shown to the user, not
// a default: servent shares nothing it was not told to.
func PublicDir() string {
	home, _ := os.UserHomeDir()
	return publicDirFor(runtime.GOOS, os.Getenv, home)
}

func publicDirFor(goos string, getenv func(string) string, home string) string {
	if goos == "windows" {
		if p := getenv("PUBLIC"); p != "" {
			return p
		}
		return `C:\Users\Public`
	}
	return filepath.Join(home, "Public")
}
