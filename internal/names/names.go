package names

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a sanitised name.
const (
	// MaxComponent is the most bytes of one path component (most file
	// systems take 255).
	MaxComponent = 200
	// MaxDepth is the most components of a relative path.
	MaxDepth = 64
	// MaxPath is the most bytes of a relative path from the network.
	MaxPath = 4096
)

// ErrUnsafePath is returned by RelPath for a path that cannot be made safe
// without guessing (absolute, "..", empty, too deep or too long).
var ErrUnsafePath = errors.New("unsafe path")

// reserved are the device names Windows refuses as file names, with or
// without an extension ("con.txt" too).
var reserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
	"COM¹": true, "COM²": true, "COM³": true, "LPT¹": true, "LPT²": true, "LPT³": true,
}

// hidden reports whether r must not reach a file name or a terminal as
// itself: invalid UTF-8, control characters (C0, DEL, C1: escape
// sequences, carriage return) and format characters (bidirectional
// overrides, zero-width joiners).
func hidden(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// Component turns one name from the network into a safe file or folder
// name: hidden characters dropped; slashes, backslashes and the characters
// Windows and Android refuse (: * ? " < > |) replaced by "_"; no leading
// dots or spaces (no hidden files, never "." or ".."), no trailing dots or
// spaces (Windows drops them); a Windows device name (CON, nul.txt, COM1)
// gets a "_" prefix; at most MaxComponent bytes of valid UTF-8. It returns
// "" when nothing is left.
func Component(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() > MaxComponent+utf8.UTFMax {
			break
		}
		switch {
		case hidden(r):
		case strings.ContainsRune(`/\:*?"<>|`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	out := strings.TrimRight(strings.TrimLeft(b.String(), ". "), ". ")
	stem, _, _ := strings.Cut(out, ".")
	if reserved[strings.ToUpper(strings.TrimRight(stem, " "))] {
		out = "_" + out
	}
	if len(out) > MaxComponent {
		for len(out) > MaxComponent {
			_, size := utf8.DecodeLastRuneInString(out)
			out = out[:len(out)-size]
		}
		out = strings.TrimRight(out, ". ")
	}
	return out
}

// Base is Component of the last element of a path (either slash): the
// name a single downloaded file is saved under.
func Base(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	return Component(p)
}

// RelPath turns a slash-separated, share-relative path from the network
// into a safe relative path (slash-separated) to create below a download
// folder: every component goes through Component. It refuses, rather than
// repairs, what has no safe meaning: an absolute path, a ".." or empty
// component, a component with nothing left, more than MaxDepth components
// or more than MaxPath bytes. "." components are dropped.
func RelPath(p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf("%w: empty", ErrUnsafePath)
	case len(p) > MaxPath:
		return "", fmt.Errorf("%w: %d bytes", ErrUnsafePath, len(p))
	case strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) || (len(p) > 1 && p[1] == ':'):
		return "", fmt.Errorf("%w: %s is absolute", ErrUnsafePath, Display(p))
	}
	parts := strings.Split(p, "/")
	if len(parts) > MaxDepth {
		return "", fmt.Errorf("%w: %d components", ErrUnsafePath, len(parts))
	}
	out := make([]string, 0, len(parts))
	for _, c := range parts {
		switch c {
		case ".":
			continue
		case "", "..":
			return "", fmt.Errorf("%w: %s has a %q component", ErrUnsafePath, Display(p), c)
		}
		safe := Component(c)
		if safe == "" {
			return "", fmt.Errorf("%w: %s has a component with no usable character", ErrUnsafePath, Display(p))
		}
		out = append(out, safe)
	}
	if len(out) == 0 {
		return "", fmt.Errorf("%w: %s names no file", ErrUnsafePath, Display(p))
	}
	return strings.Join(out, "/"), nil
}

// Display makes a name safe to print on a terminal or in a log line: every
// hidden character (escape sequences, carriage returns, bidirectional
// overrides, invalid UTF-8) is shown as a Go escape (\x1b, \r, \u202e), so
// a name can neither move the cursor nor pretend to be something else.
// Printable text, spaces and non-ASCII letters are kept as they are.
func Display(s string) string {
	clean := true
	for _, r := range s {
		if hidden(r) || r == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case hidden(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}
