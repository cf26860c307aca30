package connectivity

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultBindingCheckInterval is how often, at most, a Client looks at the file or folder its
// binding came from for a rotated secret or certificate.
const DefaultBindingCheckInterval = 5 * time.Second

// refusedReloadInterval bounds how often credentials refused by XSUAA make a Client read an
// unchanged binding source again, so that a burst of refusals reads the files once.
const refusedReloadInterval = time.Second

// rotation lets a long-running Client pick up a rotated binding (a new client secret or X.509
// certificate written to the --binding file or the Kyma binding folder) without a restart. The
// source is read again in two situations, both during a call and never in the background:
//
//   - at the start of a call, when the source's files changed (size or modification time) since
//     the last look, which happens at most once per Options.BindingCheckInterval;
//   - when XSUAA refuses the credentials: the token request is then repeated once, and only if
//     the source holds different credentials, so a wrong secret still costs one token request.
//
// A source that cannot be read or holds an invalid binding (for example a file caught half
// written) is logged and the binding in use is kept.
type rotation struct {
	interval time.Duration // < 0: no periodic look

	mu        sync.Mutex
	checked   time.Time // last periodic look
	refused   time.Time // last reload after refused credentials
	refusedAt string    // the source stamp at that reload
	stampPath string    // the source stamp describes
	stamp     string    // fingerprint of the source at the last reload
}

func newRotation(b *Binding, interval time.Duration) *rotation {
	r := &rotation{interval: interval, checked: time.Now()}
	if b.origin.kind != bindingOriginNone {
		r.stampPath, r.stamp = b.origin.path, sourceStamp(b.origin)
	}
	return r
}

// checkBindingSource reloads the binding when its source changed since the last look, if the
// check interval has passed.
func (c *Client) checkBindingSource() {
	r := c.rotation
	cur := c.auth.current()
	if r.interval < 0 || cur.origin.kind == bindingOriginNone {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.checked) < r.interval {
		return
	}
	r.checked = now
	stamp := sourceStamp(cur.origin)
	if r.stampPath == cur.origin.path && stamp == r.stamp {
		return
	}
	c.reloadLocked(cur, stamp, "its source changed")
}

// reloadRefused is called when XSUAA refused the credentials of binding used. It reports whether
// the token request should be repeated: the binding has been replaced meanwhile, or its source
// now holds different credentials, which are then in use.
func (c *Client) reloadRefused(used *Binding) bool {
	r := c.rotation
	cur := c.auth.current()
	if cur != used {
		return true // replaced while the refused request was under way
	}
	if cur.origin.kind == bindingOriginNone {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur = c.auth.current(); cur != used {
		return true
	}
	now, stamp := time.Now(), sourceStamp(cur.origin)
	if stamp == r.refusedAt && now.Sub(r.refused) < refusedReloadInterval {
		return false
	}
	r.refused, r.refusedAt = now, stamp
	return c.reloadLocked(cur, stamp, "XSUAA refused its credentials")
}

// reloadLocked reads cur's source again and switches to the binding found there if it differs.
// It reports whether it switched. r.mu must be held; stamp describes the source before reading.
func (c *Client) reloadLocked(cur *Binding, stamp, why string) bool {
	r := c.rotation
	nb, err := cur.Reload()
	if err != nil {
		// Keep the stamp: a file caught half written is read again at the next look.
		c.opts.Logger.Warn("binding not reloaded: keeping the one in use", "binding", cur.String(), "reason", why, "error", err)
		return false
	}
	r.stampPath, r.stamp = cur.origin.path, stamp
	if *nb == *cur {
		c.opts.Logger.Debug("binding source read again: unchanged", "binding", cur.String(), "reason", why)
		return false
	}
	if err := c.SetBinding(nb); err != nil {
		c.opts.Logger.Warn("binding not reloaded: keeping the one in use", "binding", cur.String(), "reason", why, "error", err)
		return false
	}
	c.opts.Logger.Info("binding reloaded", "binding", nb.String(), "reason", why, "credentials_changed", credentialsDiffer(cur, nb))
	return true
}

// credentialsDiffer reports whether a and b authenticate differently (a rotated secret or
// certificate), as opposed to other changes of the binding.
func credentialsDiffer(a, b *Binding) bool {
	return a.ClientID != b.ClientID || a.ClientSecret != b.ClientSecret || a.Certificate != b.Certificate ||
		a.Key != b.Key || a.CredentialType != b.CredentialType
}

// sourceStamp fingerprints a binding source by the names, sizes and modification times of its
// files, following symbolic links (a Kubernetes secret update swaps the ..data link, which
// changes what every name points at). It returns "" when the source cannot be read.
func sourceStamp(o bindingOrigin) string {
	switch o.kind {
	case bindingOriginFile:
		info, err := os.Stat(o.path)
		if err != nil {
			return ""
		}
		return fileStamp(info)
	case bindingOriginFolder:
		entries, err := os.ReadDir(o.path)
		if err != nil {
			return ""
		}
		var parts []string
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") && name != ".metadata" {
				continue
			}
			info, err := os.Stat(filepath.Join(o.path, name))
			if err != nil {
				parts = append(parts, name+"=?")
				continue
			}
			parts = append(parts, name+"="+fileStamp(info))
		}
		sort.Strings(parts)
		return strings.Join(parts, ";")
	}
	return ""
}

func fileStamp(info os.FileInfo) string {
	return fmt.Sprintf("%d@%d", info.Size(), info.ModTime().UnixNano())
}
