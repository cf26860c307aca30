package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

func listSubaccounts(cfg Config) server.ServerTool {
	return New(cfg.Logger, Definition{
		Name:  "list_subaccounts",
		Title: "List subaccounts",
		Description: `Lists the bound subaccounts: name and label (values for the subaccount argument), ids, region, credential and certificate expiry, last read and error. Sends no request unless refresh.
Use it to learn which subaccounts exist.
Example question: "Which subaccounts do you see?"`,
	}, func(ctx context.Context, in schemas.ListSubaccountsInput) (schemas.ListSubaccountsOutput, error) {
		if in.Refresh {
			_, _, _ = read(ctx, cfg, schemas.Scope{Refresh: true}) // each failure shows as its subaccount's last_error
		}
		out := schemas.ListSubaccountsOutput{Subaccounts: []schemas.SubaccountInfo{}}
		for _, s := range cfg.Observations.Subaccounts() {
			info := schemas.SubaccountInfo{Name: s.Name(), Label: s.Label(), Credential: "none"}
			if b := s.Binding(); b != nil {
				info.SubaccountID, info.Subdomain, info.Region = b.SubaccountID, b.SubaccountSubdomain, b.Region()
				switch {
				case b.UsesX509():
					info.Credential = "x509"
					info.CertificateExpires = rfc3339(b.NotAfter())
				case b.ClientSecret != "":
					info.Credential = "secret"
				}
			}
			if o := s.Latest(); o != nil {
				if !o.ReadAt.IsZero() {
					info.LastRead, info.Connectors = rfc3339(o.ReadAt), new(len(o.Snapshot().Connectors))
				}
				info.LastError = o.Failure
			}
			out.Subaccounts = append(out.Subaccounts, info)
		}
		return out, nil
	})
}
