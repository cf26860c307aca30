package tools

import (
	"context"
	"fmt"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// Resources expose the same data as the tools, as documents a client can attach to a
// conversation. Each is JSON with the schema of the corresponding tool's output, from the same
// observations; lists hold up to schemas.MaxLimit items (truncated says when more exist).

const (
	connectorsURI        = "connectivity://connectors"
	connectorTemplateURI = "connectivity://connectors/{client_id}"
	findingsURI          = "connectivity://findings"
	changesURI           = "connectivity://changes"
	jsonMIME             = "application/json"
)

// Resources returns the server's fixed resources.
func Resources(cfg Config) []server.ServerResource {
	return []server.ServerResource{
		{
			Resource: mcp.NewResource(connectorsURI, "connectors",
				mcp.WithResourceTitle("Cloud Connectors"),
				mcp.WithResourceDescription("Every Cloud Connector of the bound subaccount(s) with totals: the output of list_cloud_connectors (up to 500 connectors)."),
				mcp.WithMIMEType(jsonMIME)),
			Handler: jsonResource(func(ctx context.Context, _ mcp.ReadResourceRequest) (schemas.ListCloudConnectorsOutput, error) {
				return fromSnapshot(ctx, cfg, schemas.Scope{}, func(snap *connectivity.Snapshot) (schemas.ListCloudConnectorsOutput, error) {
					return listConnectors(snap, schemas.ListCloudConnectorsInput{Limit: schemas.MaxLimit})
				})
			}),
		},
		{
			Resource: mcp.NewResource(findingsURI, "findings",
				mcp.WithResourceTitle("Cloud Connector findings"),
				mcp.WithResourceDescription("The health assessment of every Cloud Connector, worst first: the output of assess_connectors (up to 500 findings). Subscribe to be told when findings change."),
				mcp.WithMIMEType(jsonMIME)),
			Handler: jsonResource(func(ctx context.Context, _ mcp.ReadResourceRequest) (schemas.AssessConnectorsOutput, error) {
				return RunAssessment(ctx, cfg, schemas.AssessConnectorsInput{Limit: schemas.MaxLimit})
			}),
		},
		{
			Resource: mcp.NewResource(changesURI, "changes",
				mcp.WithResourceTitle("Cloud Connector changes"),
				mcp.WithResourceDescription("What changed in the last 24 hours, worst first: the output of what_changed with since=24h (up to 500 changes). Subscribe to be told when it changes."),
				mcp.WithMIMEType(jsonMIME)),
			Handler: jsonResource(func(ctx context.Context, _ mcp.ReadResourceRequest) (schemas.WhatChangedOutput, error) {
				return changesSince(ctx, cfg, schemas.WhatChangedInput{Since: "24h", Limit: schemas.MaxLimit}, time.Now())
			}),
		},
	}
}

// ResourceTemplates returns the server's resource templates.
func ResourceTemplates(cfg Config) []server.ServerResourceTemplate {
	return []server.ServerResourceTemplate{{
		Template: mcp.NewResourceTemplate(connectorTemplateURI, "connector",
			mcp.WithTemplateTitle("One Cloud Connector"),
			mcp.WithTemplateDescription("The Cloud Connector(s) with this Connector ID: the output of list_cloud_connectors with client_id."),
			mcp.WithTemplateMIMEType(jsonMIME)),
		Handler: server.ResourceTemplateHandlerFunc(jsonResource(func(ctx context.Context, req mcp.ReadResourceRequest) (schemas.ListCloudConnectorsOutput, error) {
			id := templateArg(req, "client_id")
			if id == "" {
				return schemas.ListCloudConnectorsOutput{}, fmt.Errorf("%w: %s needs a Connector ID, e.g. %s/123456789", server.ErrResourceNotFound, req.Params.URI, connectorsURI)
			}
			return fromSnapshot(ctx, cfg, schemas.Scope{}, func(snap *connectivity.Snapshot) (schemas.ListCloudConnectorsOutput, error) {
				if err := checkClientID(snap, id); err != nil {
					return schemas.ListCloudConnectorsOutput{}, fmt.Errorf("%w: %s: %v", server.ErrResourceNotFound, req.Params.URI, err)
				}
				return listConnectors(snap, schemas.ListCloudConnectorsInput{ClientID: id, Limit: schemas.MaxLimit})
			})
		})),
	}}
}

// jsonResource is a resource handler that answers with answer's result as one JSON document.
func jsonResource[T any](answer func(context.Context, mcp.ReadResourceRequest) (T, error)) server.ResourceHandlerFunc {
	return func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		out, err := answer(ctx, req)
		if err != nil {
			return nil, err
		}
		data, err := compactJSON(out)
		if err != nil {
			return nil, err
		}
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: jsonMIME, Text: string(data)}}, nil
	}
}

// templateArg returns a variable the template matched: mcp-go passes the values of the URI
// template library ([]string), or a string when a handler is called directly.
func templateArg(req mcp.ReadResourceRequest, name string) string {
	switch v := req.Params.Arguments[name].(type) {
	case string:
		return v
	case []string:
		if len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
