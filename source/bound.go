package source

import (
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Default bounds on untrusted input. A node's dump of kube-proxy's rules
// for 10,000 Services is about 50 MB; every dump is read whole and parsed
// into several times its size, so a larger one is refused rather than
// exhausting memory. -f bundles of a big cluster legitimately run to
// hundreds of MB and are decoded as a stream, so their bound is higher.
const (
	DefaultMaxDumpBytes = 256 << 20
	DefaultMaxFileBytes = 1 << 30
)

// TooLargeError says an input is over its bound, and how to raise it.
type TooLargeError struct {
	// Input names the input as the command line did: "--nft node-1.json".
	Input string
	Limit int64
	// Flag raises the bound.
	Flag string
}

func (e *TooLargeError) Error() string {
	q := resource.NewQuantity(e.Limit, resource.BinarySI).String()
	return fmt.Sprintf("%s is larger than %s, the bound on untrusted input; if it really is that big, raise it with %s=%s",
		e.Input, q, e.Flag, resource.NewQuantity(e.Limit*4, resource.BinarySI).String())
}

// Bounded reads r, failing with a *TooLargeError once more than limit
// bytes arrive; limit <= 0 means no bound.
func Bounded(r io.Reader, input string, limit int64, flag string) io.Reader {
	if limit <= 0 {
		return r
	}
	return &bounded{r: r, left: limit, err: &TooLargeError{Input: input, Limit: limit, Flag: flag}}
}

type bounded struct {
	r    io.Reader
	left int64
	err  *TooLargeError
}

func (b *bounded) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err
	}
	// Read one byte past the bound: exactly limit bytes is fine.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, b.err
	}
	return n, err
}

// IsTooLarge reports whether err is a *TooLargeError.
func IsTooLarge(err error) bool {
	var e *TooLargeError
	return errors.As(err, &e)
}
