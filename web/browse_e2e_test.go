package web

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	zeebo "github.com/zeebo/blake3"

	"github.com/servent-p2p/servent/content"
)

// TestBrowserBrowseFolder runs two real `servent run` processes on
// 127.0.0.x with a drill key; one shares a folder of 1,000 small files and
// a 3 MiB briefing. A headless Chromium at a phone's viewport opens the
// other node's page, logs in with the page's own passphrase, goes to the peers, taps the holder, walks
// into drill/ then video/, taps the briefing and checks the downloaded
// bytes by an independent BLAKE3.
func TestBrowserBrowseFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("builds servent, starts two nodes and Chromium")
	}
	ctx := newChromium(t, 120*time.Second)
	bin := buildServent(t)
	const key = "drill 2026"
	files := map[string][]byte{}
	for i := range 1000 {
		files[fmt.Sprintf("drill/tiles/%02d/tile-%04d.txt", i%10, i)] = []byte(fmt.Sprintf("tile %d", i))
	}
	briefing := make([]byte, 3<<20+77)
	rand.NewChaCha8([32]byte{'b', 'r', 'o', 'w', 's', 'e'}).Read(briefing)
	want := content.Hash(zeebo.Sum256(briefing))
	files["drill/video/briefing.bin"] = briefing

	ips := []string{"127.0.0.31", "127.0.0.32"}
	udp := []string{freePort(t, "udp", ips[0]), freePort(t, "udp", ips[1])}
	webAddr := freePort(t, "tcp", ips[0])
	env := []string{"SERVENT_KEY=" + key, "SERVENT_DISCOVERY=false"}
	phone := startServent(t, bin, env, "--name", "phone-node", "--listen", udp[0], "--web-listen", webAddr, "--seed", udp[1])
	startServent(t, bin, env, "--name", "holder", "--listen", udp[1], "--seed", udp[0], "--share", shareDir(t, files))
	pageURL := "http://" + webAddr + "/"

	eventually(t, 30*time.Second, "the node to serve the page", func() bool {
		resp, err := http.Get(pageURL + "login")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	pass := printedPassphrase(t, phone.output()) // the page's own, never the drill key
	c := newDeviceClient(t, "127.0.0.39")        // not the phone: see newDeviceClient
	loggedIn := false
	eventually(t, 90*time.Second, "the page to list the holder's 1,001 files", func() bool {
		if !loggedIn {
			loggedIn = tryLogin(c, pageURL, pass)
			return false
		}
		resp, err := c.Get(pageURL + "browse?peer=holder&dir=drill")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(body.String(), "1000 files")
	})

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("log in and browse", chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch),
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS(`input[name=passphrase]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=passphrase]`), pass),
		chromedp.Submit(chromedp.CSS(`input[name=passphrase]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/browse"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/browse"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.peer[href*="peer=holder"]`)),
		chromedp.Click(chromedp.CSS(`a.peer[href*="peer=holder"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.folder[href*="dir=drill&"]`)),
		chromedp.Click(chromedp.CSS(`a.folder[href*="dir=drill&"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.folder[href*="video"]`)),
		chromedp.Click(chromedp.CSS(`a.folder[href*="video"]`)),
		// drill/ lists files too: wait for video/ itself.
		chromedp.WaitVisible(chromedp.CSS(`h2.crumbs a[href*="video"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.res a.dl`)),
	))
	name, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("ul.res .name").firstChild.textContent`))
	must("read the file name", err)
	if name != "briefing.bin" {
		t.Fatalf("drill/video shows %q", name)
	}
	if h := tapDownload(t, ctx, `ul.res a.dl`); h != want {
		t.Fatalf("downloaded bytes hash to %s, want %s", h, want)
	}
}
