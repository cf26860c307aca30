package tools

import (
	"cmp"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/dashboard"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// assessRead reads a resource and returns its one text content, checked for URI and MIME type.
func assessRead(t *testing.T, c *client.Client, uri string) (string, error) {
	t.Helper()
	req := mcp.ReadResourceRequest{}
	req.Params.URI = uri
	res, err := c.ReadResource(t.Context(), req)
	if err != nil {
		return "", err
	}
	if len(res.Contents) != 1 {
		t.Fatalf("%s: %d contents, want 1", uri, len(res.Contents))
	}
	tc, ok := res.Contents[0].(mcp.TextResourceContents)
	if !ok {
		t.Fatalf("%s: content %T, want text", uri, res.Contents[0])
	}
	if tc.URI != uri || tc.MIMEType != "application/json" {
		t.Errorf("%s: content uri %q mimeType %q", uri, tc.URI, tc.MIMEType)
	}
	return tc.Text, nil
}

// assessDecodeAs validates text against the output schema of Out and decodes it.
func assessDecodeAs[Out any](t *testing.T, text string) Out {
	t.Helper()
	if err := schemas.Validate(schemas.Reflect[Out](), json.RawMessage(text)); err != nil {
		t.Fatalf("resource does not match the tool's output schema: %v\n%s", err, text)
	}
	var out Out
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResourcesList(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, nil)
	c := assessClient(t, cfg)
	res, err := c.ListResources(t.Context(), mcp.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for _, r := range res.Resources {
		uris = append(uris, r.URI)
		if mime := cmp.Or(map[string]string{dashboard.URI: dashboard.MIMEType}[r.URI], jsonMIME); r.MIMEType != mime || r.Description == "" || r.Title == "" {
			t.Errorf("resource %+v lacks a MIME type, title or description", r)
		}
	}
	slices.Sort(uris)
	if !slices.Equal(uris, []string{changesURI, connectorsURI, dashboard.DataURI, findingsURI, dashboard.URI}) {
		t.Errorf("resources %v", uris)
	}
	templates, err := c.ListResourceTemplates(t.Context(), mcp.ListResourceTemplatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(templates.ResourceTemplates) != 1 || templates.ResourceTemplates[0].URITemplate.Raw() != connectorTemplateURI ||
		templates.ResourceTemplates[0].MIMEType != "application/json" {
		t.Errorf("templates %+v", templates.ResourceTemplates)
	}
}

func TestResourcesMatchTheTools(t *testing.T) {
	t.Parallel()
	sim, cfg := assessEnv(t, nil)
	c := assessClient(t, cfg)

	text, err := assessRead(t, c, connectorsURI)
	if err != nil {
		t.Fatal(err)
	}
	connectors := assessDecodeAs[schemas.ListCloudConnectorsOutput](t, text)
	if connectors.Totals.Connectors != 10 || len(connectors.Connectors) != 10 {
		t.Errorf("connectors resource: %d of %d", len(connectors.Connectors), connectors.Totals.Connectors)
	}
	res := call(t, listCloudConnectors(cfg), map[string]any{"limit": 500})
	if got := assessDecodeAs[schemas.ListCloudConnectorsOutput](t, text); !reflect.DeepEqual(got, res.StructuredContent) {
		t.Errorf("connectors resource differs from list_cloud_connectors")
	}

	text, err = assessRead(t, c, findingsURI)
	if err != nil {
		t.Fatal(err)
	}
	findings := assessDecodeAs[schemas.AssessConnectorsOutput](t, text)
	if tool := assessCall(t, cfg, map[string]any{"limit": 500}); !reflect.DeepEqual(findings, tool) {
		t.Errorf("findings resource differs from assess_connectors")
	}

	text, err = assessRead(t, c, connectorsURI+"/856302418")
	if err != nil {
		t.Fatal(err)
	}
	one := assessDecodeAs[schemas.ListCloudConnectorsOutput](t, text)
	if len(one.Connectors) != 1 || one.Connectors[0].ClientID != "856302418" || one.Connectors[0].AgentType != "shadow" {
		t.Errorf("template resource: %+v", one)
	}

	if got := sim.Counts().APIRequests; got != 1 {
		t.Errorf("resources and tools read the API %d times, want once (they share the cache)", got)
	}
}

func TestResourceTemplateEscapedClientID(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, []simulator.Agent{{Attributes: map[string]string{"client_id": "cc 1/a", "agent_type": "master"}}})
	c := assessClient(t, cfg)
	text, err := assessRead(t, c, connectorsURI+"/cc%201%2Fa")
	if err != nil {
		t.Fatal(err)
	}
	if out := assessDecodeAs[schemas.ListCloudConnectorsOutput](t, text); len(out.Connectors) != 1 || out.Connectors[0].ClientID != "cc 1/a" {
		t.Errorf("escaped client_id: %+v", out)
	}
}

func TestResourceErrors(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, nil)
	c := assessClient(t, cfg)
	for _, tt := range []struct{ uri, want string }{
		{connectorsURI + "/999", `resource not found: connectivity://connectors/999: no Cloud Connector with client_id "999" is connected; connected: 123456789,`},
		{"connectivity://nothing", "resource not found"},
	} {
		_, err := assessRead(t, c, tt.uri)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.uri, err, tt.want)
		}
	}

	broken, brokenCfg := assessEnv(t, nil)
	brokenCfg.CallTimeout = 10 * time.Second
	broken.InjectFault(simulator.Fault{Status: 403})
	bc := assessClient(t, brokenCfg)
	for _, uri := range []string{connectorsURI, findingsURI, connectorsURI + "/123456789"} {
		_, err := assessRead(t, bc, uri)
		if err == nil || !strings.Contains(err.Error(), "the Connectivity service denied access (HTTP 403 Forbidden)") {
			t.Errorf("%s with a 403: %v", uri, err)
		}
	}
}

func TestResourceHandlersDirectly(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, nil)
	tmpl := ResourceTemplates(cfg)[0]
	for _, args := range []map[string]any{{"client_id": "123456789"}, {"client_id": []string{"123456789"}}} {
		req := mcp.ReadResourceRequest{}
		req.Params.URI = connectorsURI + "/123456789"
		req.Params.Arguments = args
		contents, err := tmpl.Handler(t.Context(), req)
		if err != nil || len(contents) != 1 {
			t.Errorf("%v: %v", args, err)
		}
	}
	req := mcp.ReadResourceRequest{}
	req.Params.URI = connectorsURI + "/"
	if _, err := tmpl.Handler(t.Context(), req); err == nil || !strings.Contains(err.Error(), "needs a Connector ID") {
		t.Errorf("no client_id: %v", err)
	}
	if _, err := tmpl.Handler(t.Context(), req); !errors.Is(err, server.ErrResourceNotFound) {
		t.Errorf("no client_id: %v is not ErrResourceNotFound", err)
	}
}
