package web

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	zeebo "github.com/zeebo/blake3"

	"github.com/servent-p2p/servent/content"
)

// TestBrowserBrowseFolder runs two real `servent run` processes on
// 127.0.0.x with a drill key; one shares a folder of 1,000 small files and
// a 3 MiB briefing. A headless Chromium at a phone's viewport opens the
// other node's page, logs in with the page's own passphrase, goes to the peers, taps the holder, walks
// into drill/ then video/, taps the briefing and checks the downloaded
// bytes by an independent BLAKE3; then, with JavaScript off, it taps the
// .zip link of drill/maps and checks every file of the saved archive the
// same way (drill/ itself is over the page's .zip limit and says so).
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
	// The folder zipped: a subfolder, a multi-chunk file, names the zip
	// makes safe, an empty file.
	maps := map[string][]byte{}
	for i := range 10 {
		maps[fmt.Sprintf("drill/maps/sector %d/plan.txt", i)] = []byte(fmt.Sprintf("sector %d: water at the school", i))
	}
	atlas := make([]byte, 2<<20+5)
	rand.NewChaCha8([32]byte{'z', 'i', 'p'}).Read(atlas)
	maps["drill/maps/atlas.bin"] = atlas
	maps["drill/maps/shelters: north?.csv"] = []byte("name,lat,lon\n")
	maps["drill/maps/empty.txt"] = nil
	for p, b := range maps {
		files[p] = b
	}

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

	// drill/ is over the page's .zip limit (1000 files): it says so and
	// names the command for a computer. drill/maps is not: its link, with
	// JavaScript off, saves a .zip of every file of it.
	must("back to drill/", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`h2.crumbs a[href*="dir=drill&"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#zip-limit`)),
	))
	limit, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#zip-limit`)))
	must("read the limit", err)
	if !strings.Contains(limit, fmt.Sprintf("This folder has %d files", len(files))) || !strings.Contains(limit, "servent get holder:drill") {
		t.Errorf("drill/ says %q", limit)
	}
	_, err = chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	must("disable JavaScript", err)
	must("open drill/maps", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a.folder[href*="maps"]`)),
		chromedp.WaitVisible(chromedp.CSS(`h2.crumbs a[href*="maps"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.zip`)),
	))
	start := time.Now()
	saved := tapSave(t, ctx, `a.zip`)
	t.Logf("the .zip of drill/maps (%d files) saved in %v", len(maps), time.Since(start).Round(time.Millisecond))
	checkZip(t, saved, maps, "drill/", map[string]string{"drill/maps/shelters: north?.csv": "maps/shelters_ north_.csv"})
}

// checkZip opens the saved .zip at path and checks that it holds exactly
// the files of want, each named by its path without prefix (or as renamed
// says) and hashing to the same BLAKE3 as the shared bytes.
func checkZip(t *testing.T, path string, want map[string][]byte, prefix string, renamed map[string]string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("the saved download is not a zip: %v", err)
	}
	defer zr.Close()
	got := map[string]content.Hash{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		got[f.Name] = content.Hash(zeebo.Sum256(b))
	}
	for p, b := range want {
		name := strings.TrimPrefix(p, prefix)
		if r, ok := renamed[p]; ok {
			name = r
		}
		if h, ok := got[name]; !ok || h != content.Hash(zeebo.Sum256(b)) {
			t.Errorf("%s in the zip: %v (present %v)", name, h, ok)
		}
	}
	if len(got) != len(want) {
		t.Errorf("the zip holds %d files, want %d", len(got), len(want))
	}
}
