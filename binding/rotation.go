package binding

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Reload reads the binding's source again (its service key file or binding folder) and returns
// the binding of the same name, validated. A long-running server calls it to pick up a rotated
// secret or certificate without a restart. Bindings from VCAP_SERVICES, which changes only with
// a restart, and from Parse are returned unchanged.
func (b *Binding) Reload() (*Binding, error) {
	o, r := b.origin, &Result{}
	switch {
	case o.path == "":
		return b, nil
	case o.folder:
		r.loadDir(o.path, strings.TrimSuffix(b.Source, o.path))
	default:
		r.loadFile(o.path)
	}
	var errs []error
	for _, nb := range r.Usable {
		if nb.origin.own == o.own {
			nb.Name = b.Name // as NAME=PATH named it
			return nb, nil
		}
	}
	for _, e := range r.Broken {
		if e.Name == o.own {
			e.Name = b.Name
		}
		errs = append(errs, e)
	}
	for _, s := range r.Skipped {
		if s.Name == o.own {
			errs = append(errs, fmt.Errorf("binding %q (%s) can no longer be used: %s", b.Name, b.Source, s.Reason))
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("binding %q is no longer in %s", b.Name, b.Source)
	}
	return nil, errors.Join(errs...)
}

// DefaultCheckInterval is how often, at most, a Rotation looks at the file or folder its binding
// came from for a rotated secret or certificate.
const DefaultCheckInterval = 5 * time.Second

// Rotation lets a long-running client pick up a rotated binding (a new client secret or X.509
// certificate written to the --binding file or the Kyma binding folder) without a restart. The
// source is read again in two situations, both during a call and never in the background:
//
//   - Check, at the start of a call: when the source's files changed (size or modification time)
//     since the last look, which happens at most once per interval;
//   - Refused, when XSUAA refuses the credentials: the caller repeats the token request once, and
//     only if the source holds different credentials, so a wrong secret costs one token request
//     (and one read of a small file).
//
// A source that cannot be read or holds an invalid binding (for example a file caught half
// written) is logged and the binding in use is kept.
type Rotation struct {
	current  func() *Binding
	apply    func(*Binding) error
	interval time.Duration // < 0: no periodic look
	logger   *slog.Logger

	mu      sync.Mutex
	checked time.Time // last periodic look
	stamp   string    // fingerprint of the source at the last reload
}

// NewRotation watches the source of the binding current returns and hands a changed binding to
// apply. interval is the least time between two looks (negative: look only on Refused); logger
// receives a record of each reload, never a secret (nil discards).
func NewRotation(current func() *Binding, apply func(*Binding) error, interval time.Duration, logger *slog.Logger) *Rotation {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Rotation{current: current, apply: apply, interval: interval, logger: logger,
		checked: time.Now(), stamp: current().origin.stamp()}
}

// Check reloads the binding when its source changed since the last look, if the interval has passed.
func (r *Rotation) Check() {
	cur := r.current()
	if r.interval < 0 || cur.origin.path == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.checked) < r.interval {
		return
	}
	r.checked = now
	if stamp := cur.origin.stamp(); stamp != r.stamp {
		r.reloadLocked(cur, stamp, "its source changed")
	}
}

// Refused is called when XSUAA refused the credentials of binding used. It reports whether the
// token request should be repeated: the binding has been replaced meanwhile, or its source now
// holds different credentials, which are then in use.
func (r *Rotation) Refused(used *Binding) bool {
	if cur := r.current(); cur != used || cur.origin.path == "" {
		return cur != used // replaced while the refused request was under way
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current() != used {
		return true
	}
	return r.reloadLocked(used, used.origin.stamp(), "XSUAA refused its credentials")
}

// reloadLocked reads cur's source again and switches to the binding found there if it differs.
// It reports whether it switched. r.mu must be held; stamp describes the source before reading.
func (r *Rotation) reloadLocked(cur *Binding, stamp, why string) bool {
	nb, err := cur.Reload()
	if err == nil {
		// Keep the old stamp on failure: a file caught half written is read again at the next look.
		r.stamp = stamp
		if *nb == *cur {
			r.logger.Debug("binding source read again: unchanged", "binding", cur.String(), "reason", why)
			return false
		}
		err = r.apply(nb)
	}
	if err != nil {
		r.logger.Warn("binding not reloaded: keeping the one in use", "binding", cur.String(), "reason", why, "error", err)
		return false
	}
	r.logger.Info("binding reloaded", "binding", nb.String(), "reason", why, "credentials_changed",
		cur.ClientID != nb.ClientID || cur.ClientSecret != nb.ClientSecret || cur.Certificate != nb.Certificate ||
			cur.Key != nb.Key || cur.CredentialType != nb.CredentialType)
	return true
}

// stamp fingerprints a binding source by the names, sizes and modification times of its files,
// following symbolic links (a Kubernetes secret update swaps the ..data link, which changes what
// every name points at). It returns "" when the source cannot be read.
func (o origin) stamp() string {
	fileStamp := func(path string) string {
		info, err := os.Stat(path)
		if err != nil {
			return "?"
		}
		return fmt.Sprintf("%d@%d", info.Size(), info.ModTime().UnixNano())
	}
	if o.path == "" {
		return ""
	}
	if !o.folder {
		return fileStamp(o.path)
	}
	entries, err := os.ReadDir(o.path)
	if err != nil {
		return ""
	}
	var parts []string
	for _, e := range entries {
		if name := e.Name(); !strings.HasPrefix(name, ".") || name == ".metadata" {
			parts = append(parts, name+"="+fileStamp(filepath.Join(o.path, name)))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ";")
}
