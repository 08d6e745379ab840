package web

import "github.com/servent-p2p/servent/kit"

// kitView is one "servent for this computer" link.
type kitView struct {
	Label  string // "Windows (Intel/AMD 64-bit)"
	Name   string
	Size   string
	SHA256 string
	Href   string // the verified download by content hash
}

// kitFor lists the offered binaries that run on the computer whose browser
// sent ua, best first: nothing for phones or an unknown browser.
func (s *Server) kitFor(ua string) []kitView {
	var out []kitView
	for _, t := range kit.ForUserAgent(ua) {
		for _, b := range s.cfg.Kit {
			if b.Target == t {
				out = append(out, kitView{Label: t.Label(), Name: b.Name, Size: humanSize(b.Size), SHA256: b.SHA256, Href: downloadHref(b.BLAKE3, b.Name)})
				break
			}
		}
	}
	return out
}
