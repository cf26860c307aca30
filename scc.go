package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// sccOptions are the deep-health settings: each Cloud Connector's own administration API.
type sccOptions struct {
	config       string // --scc-config
	certWarnDays int    // --cert-warn-days
	proxyBinding string // --scc-proxy-binding
	reader       *sccadmin.Reader
}

func registerSCCFlags(fs *flag.FlagSet, o *sccOptions) {
	fs.StringVar(&o.config, "scc-config", os.Getenv(sccadmin.EnvConfig), "YAML `file` of Cloud Connectors whose administration API is read for deep health (env "+sccadmin.EnvConfig+"; see README, Deep health)")
	fs.IntVar(&o.certWarnDays, "cert-warn-days", 30, "a Cloud Connector certificate expiring within this many `days` is a finding (medium; high within 14)")
	fs.StringVar(&o.proxyBinding, "scc-proxy-binding", "", "Connectivity binding of plan lite (service key `file` or Kyma folder) for scc-config entries with via: connectivity-proxy (default: VCAP_SERVICES, else the Kyma in-cluster proxy)")
}

// readerOptions are the deep-health reader's options for the server's settings.
func readerOptions(o *options, proxy *sccadmin.Proxy) sccadmin.Options {
	return sccadmin.Options{CacheTTL: o.cacheTTL, Proxy: proxy, UserAgent: "btp-connectivity-mcp/" + version}
}

// loadSCC reads --scc-config, when given, and finds the Connectivity proxy its tunnelled entries
// need. A file that cannot be used is an error that names the file, the entry, its line and the
// problem.
func loadSCC(o *options, logger *slog.Logger) error {
	if o.scc.certWarnDays < 1 {
		return fmt.Errorf("--cert-warn-days must be a number of days such as 30, got %d", o.scc.certWarnDays)
	}
	if o.scc.config == "" {
		return nil
	}
	cfg, err := sccadmin.LoadConfig(o.scc.config, os.Getenv)
	if err != nil {
		return err
	}
	var proxy *sccadmin.Proxy
	for _, e := range cfg.Connectors {
		if e.ViaProxy() {
			if proxy, err = sccProxy(o.scc.proxyBinding, logger); err != nil {
				return err
			}
			break
		}
	}
	o.scc.reader = sccadmin.NewReader(cfg, readerOptions(o, proxy))
	logger.Info("deep health: reading the Cloud Connectors' administration API", "config", o.scc.config, "connectors", len(cfg.Connectors))
	return nil
}

// sccProxy returns the Connectivity proxy: --scc-proxy-binding, else a lite binding in
// VCAP_SERVICES, else on Kyma the in-cluster proxy; nil when none (the entries then say what to
// bind).
func sccProxy(path string, logger *slog.Logger) (*sccadmin.Proxy, error) {
	var b *sccadmin.ProxyBinding
	var err error
	switch {
	case path != "":
		if b, err = sccadmin.LoadProxyBinding(path); err != nil {
			return nil, fmt.Errorf("--scc-proxy-binding %s: %w", path, err)
		}
	default:
		var found bool
		if b, found, err = sccadmin.ProxyBindingFromVCAP(os.Getenv("VCAP_SERVICES")); err != nil {
			return nil, err
		} else if !found {
			if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
				logger.Info("deep health through the Kyma in-cluster Connectivity proxy", "address", sccadmin.KymaProxy().Address())
				return sccadmin.KymaProxy(), nil
			}
			logger.Warn("deep health: entries with via: connectivity-proxy need a Connectivity binding of plan lite (--scc-proxy-binding or VCAP_SERVICES)")
			return nil, nil
		}
	}
	return b.Proxy(nil)
}

// demoSCCs starts the demo's simulated connector admin APIs (joinable with the demo landscape in
// the subaccount subaccountID) and returns their reader.
func demoSCCs(o *options, subaccountID string) (*sccadmin.Reader, func(), error) {
	// An hour ahead, so that the certificate "in 12 days" still has 12 whole days left when read.
	fleet, err := simulator.StartSampleSCCs(time.Now().Add(time.Hour), subaccountID)
	if err != nil {
		return nil, nil, fmt.Errorf("starting the demo Cloud Connectors: %w", err)
	}
	cfg, err := sccadmin.ParseConfig("demo scc config", fleet.Config(), fleet.Getenv)
	if err != nil {
		fleet.Close()
		return nil, nil, err
	}
	return sccadmin.NewReader(cfg, readerOptions(o, nil)), fleet.Close, nil
}

// sourcesOf returns the sources registered for the subaccount of b besides the Connectivity
// service's.
func sourcesOf(reader *sccadmin.Reader, b *binding.Binding) []observe.Source {
	if src := observe.NewDeepHealthSource(reader, b); src != nil {
		return []observe.Source{src}
	}
	return nil
}
