package binding

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Reload reads the binding's file or Kyma folder again and returns the binding of the same name,
// validated; one from VCAP_SERVICES (which changes only with a restart) or Parse is returned as is.
func (b *Binding) Reload() (*Binding, error) {
	if b.path == "" {
		return b, nil
	}
	r := &Result{}
	r.loadPath(b.path)
	var errs []error
	for _, nb := range r.Usable {
		if nb.own == b.own {
			nb.Name, nb.Source = b.Name, b.Source // as NAME=PATH named it, and as found
			return nb, nil
		}
	}
	for _, e := range r.Broken {
		if e.Name == b.own {
			e.Name, e.Source = b.Name, b.Source
		}
		errs = append(errs, e)
	}
	for _, s := range r.Skipped {
		if s.Name == b.own {
			errs = append(errs, fmt.Errorf("binding %q (%s) can no longer be used: %s", b.Name, b.Source, s.Reason))
		}
	}
	return nil, cmp.Or(errors.Join(errs...), fmt.Errorf("binding %q is no longer in %s", b.Name, b.Source))
}

// DefaultCheckInterval is how often, at most, a Rotation looks at its binding's file or folder.
const DefaultCheckInterval = 5 * time.Second

// Rotation lets a long-running client pick up a new secret or certificate written to its binding's
// file or Kyma folder. It reads the source again during calls, never in the background: on Check
// when its files changed (size or modification time, looked at once per interval at most), and
// on Refused. A source that cannot be read or holds an invalid binding is logged and ignored.
type Rotation struct {
	current  func() *Binding
	apply    func(*Binding) error
	interval time.Duration // < 0: no periodic look
	logger   *slog.Logger

	mu      sync.Mutex
	checked time.Time // last periodic look
	stamp   string    // fingerprint of the source at the last reload
}

// NewRotation watches the source of the binding current returns and hands a changed one to apply,
// looking at most once per interval (negative: only on Refused). A nil logger discards.
func NewRotation(current func() *Binding, apply func(*Binding) error, interval time.Duration, logger *slog.Logger) *Rotation {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Rotation{current: current, apply: apply, interval: interval, logger: logger,
		checked: time.Now(), stamp: stamp(current().path)}
}

// Check reloads the binding when its source changed since the last look, if the interval has passed.
func (r *Rotation) Check() {
	cur := r.current()
	if r.interval < 0 || cur.path == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= r.interval {
		r.checked = now
		if s := stamp(cur.path); s != r.stamp {
			r.reloadLocked(cur, s, "its source changed")
		}
	}
}

// Refused is called when XSUAA refused the credentials of binding used. It reports whether to
// repeat the token request once: the binding was replaced meanwhile, or its source changed it.
func (r *Rotation) Refused(used *Binding) bool {
	if cur := r.current(); cur != used || cur.path == "" {
		return cur != used
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current() != used || r.reloadLocked(used, stamp(used.path), "XSUAA refused its credentials")
}

// reloadLocked switches to the binding in cur's source (stamped stamp) if it differs; r.mu is held.
func (r *Rotation) reloadLocked(cur *Binding, stamp, why string) bool {
	nb, err := cur.Reload()
	if err == nil {
		r.stamp = stamp // only on success: a file caught half written is read again at the next look
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

// stamp fingerprints a file, or a folder's files, by name, size and modification time.
func stamp(path string) string {
	file := func(path string) string {
		if info, err := os.Stat(path); err == nil {
			return fmt.Sprintf("%d@%d", info.Size(), info.ModTime().UnixNano())
		}
		return "?"
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return file(path) // a file, or a folder that cannot be read
	}
	var parts []string
	for _, e := range entries { // sorted by name
		if name := e.Name(); !strings.HasPrefix(name, ".") || name == ".metadata" {
			parts = append(parts, name+"="+file(filepath.Join(path, name)))
		}
	}
	return strings.Join(parts, ";")
}
