package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/mdp/qrterminal/v3"
	"github.com/spf13/cobra"

	"github.com/servent-p2p/servent/internal/words"
)

// keyBits is the entropy of a generated drill key: 12 words.
const keyBits = 128

func newKeyCmd() *cobra.Command {
	key := &cobra.Command{
		Use:   "key",
		Short: "Make a drill key",
	}
	var out string
	gen := &cobra.Command{
		Use:   "new",
		Short: "Generate a drill key: 12 words (128 bits), shown with a QR code",
		Long: `Generate a random drill key: 12 words (128 bits of entropy, BIP-39 English
word list), printed with a QR code so that others can copy it from the screen.
Put it in a file and start every host with --key-file FILE. A key chosen
by a person can be guessed; this one cannot.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			words, err := newDrillWords()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out != "" {
				if err := writeKeyFile(out, words); err != nil {
					return err
				}
				fmt.Fprintf(w, "drill key written to %s (readable by you only); start every host with --key-file %s\n\n", out, out)
			} else {
				fmt.Fprintln(w, "drill key (save it: servent key new --out drill.key):")
			}
			fmt.Fprintf(w, "  %s\n\n", words)
			qrterminal.GenerateHalfBlock(words, qrterminal.M, w)
			return nil
		},
	}
	gen.Flags().StringVar(&out, "out", "", "write the key to this file (mode 0600; an existing file is never overwritten)")
	key.AddCommand(gen)
	return key
}

// newDrillWords returns keyBits of fresh randomness as words.
func newDrillWords() (string, error) {
	entropy := make([]byte, keyBits/8)
	if _, err := io.ReadFull(rand.Reader, entropy); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return words.Mnemonic(entropy)
}

// writeKeyFile creates path with the key on its first line, readable by
// its owner only; it refuses to replace an existing file.
func writeKeyFile(path, words string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: keep it, or remove it first to make a new key", path)
	}
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, words); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
