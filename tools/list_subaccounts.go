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
			ctx, cancel := context.WithTimeout(ctx, cfg.callTimeout())
			defer cancel()
			cfg.Fleet.Read(ctx, cfg.Fleet.Subaccounts(), true, progressOf(ctx))
		}
		out := schemas.ListSubaccountsOutput{Subaccounts: []schemas.SubaccountInfo{}}
		for _, s := range cfg.Fleet.Subaccounts() {
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
			st := s.Status()
			if !st.LastRead.IsZero() {
				info.LastRead = rfc3339(st.LastRead)
				info.Connectors = &st.Connectors
			}
			if st.LastError != nil {
				info.LastError = explain(st.LastError, cfg.callTimeout()).Error()
			}
			out.Subaccounts = append(out.Subaccounts, info)
		}
		return out, nil
	})
}
