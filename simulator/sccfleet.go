package simulator

import (
	"fmt"
	"strings"
	"time"
)

// SCCFleet is a set of running simulated connectors and the --scc-config file that reads them,
// for --demo and tests.
type SCCFleet struct {
	SCCs []*SCC
}

// SCCPasswordEnv is the environment variable the fleet's config reads the password from.
const SCCPasswordEnv = "SCC_DEMO_MONITORING_PASSWORD"

// StartSCCFleet starts one simulated connector per option. Call Close when done.
func StartSCCFleet(opts []SCCOptions) (*SCCFleet, error) {
	f := &SCCFleet{}
	for _, o := range opts {
		s, err := StartSCC(o)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.SCCs = append(f.SCCs, s)
	}
	return f, nil
}

// Config returns the --scc-config file (YAML) that reads every connector of the fleet directly,
// the password from the environment variable SCCPasswordEnv (see Getenv).
func (f *SCCFleet) Config() []byte {
	var b strings.Builder
	b.WriteString("connectors:\n")
	for _, s := range f.SCCs {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    user: %s\n    password_env: %s\n", s.opts.Name, s.URL(), s.User(), SCCPasswordEnv)
	}
	return []byte(b.String())
}

// Getenv is the environment of Config: it gives the fleet's password (every connector of the
// fleet must accept the same one, as the samples do).
func (f *SCCFleet) Getenv(name string) string {
	if name == SCCPasswordEnv && len(f.SCCs) > 0 {
		return f.SCCs[0].Password()
	}
	return ""
}

// Close stops every connector.
func (f *SCCFleet) Close() {
	for _, s := range f.SCCs {
		s.Close()
	}
}

// StartSampleSCCs starts the connectors of SampleSCCs (certificates relative to now), joinable
// with the sample landscape in subaccountID.
func StartSampleSCCs(now time.Time, subaccountID string) (*SCCFleet, error) {
	return StartSCCFleet(SampleSCCs(now, subaccountID))
}
