package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/servent-p2p/servent/kit"
)

func main() {
	out := flag.String("out", "kit", "folder to write the kit into")
	version := flag.String("version", "", "version to stamp (default: git describe --tags --always --dirty)")
	targets := flag.String("targets", "", "comma-separated goos/goarch list (default: every kit platform)")
	flag.Parse()
	o := kit.Options{Out: *out, Version: *version}
	if o.Version == "" {
		o.Version = gitVersion()
	}
	if *targets != "" {
		for _, s := range strings.Split(*targets, ",") {
			t, err := kit.ParseTarget(strings.TrimSpace(s))
			if err != nil {
				fmt.Fprintln(os.Stderr, "kit:", err)
				os.Exit(2)
			}
			o.Targets = append(o.Targets, t)
		}
	}
	bins, err := kit.Build(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, b := range bins {
		fmt.Printf("%-28s %9d bytes  sha256 %s  %s\n", b.Name, b.Size, b.SHA256, b.Target.Label())
	}
	fmt.Printf("kit %s in %s (%s, %s)\n", o.Version, *out, kit.SHA256File, kit.B3File)
}

// gitVersion describes the checkout, or says "dev" where git cannot.
func gitVersion() string {
	b, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output()
	if v := strings.TrimSpace(string(b)); err == nil && v != "" {
		return v
	}
	return "dev"
}
