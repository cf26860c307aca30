package tools

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// Prompts are workflows a user picks in the client (often as a slash command): each returns one
// user message that tells the model which tools to call and what to make of the answers. They
// read nothing themselves, so they never fail on the Connectivity service.

const (
	promptTriage = "triage_security_findings"
	promptReport = "connector_health_report"
)

// Prompts returns every prompt of the server.
func Prompts(cfg Config) []server.ServerPrompt {
	clientID := mcp.WithArgument("client_id",
		mcp.ArgumentTitle("Connector ID"),
		mcp.ArgumentDescription("Only this Cloud Connector (its Connector ID, as in list_cloud_connectors); leave empty for all."))
	return []server.ServerPrompt{
		{
			Prompt: mcp.NewPrompt(promptTriage,
				mcp.WithPromptTitle("Triage Cloud Connector findings"),
				mcp.WithPromptDescription("Turns the assessment of the Cloud Connectors into an ordered remediation plan: findings grouped by root cause, with owners and how to verify each fix."),
				clientID,
				mcp.WithArgument("min_severity",
					mcp.ArgumentTitle("Minimum severity"),
					mcp.ArgumentDescription("Only findings at least this severe: critical, high, medium, low or info; leave empty for all.")),
			),
			Handler: textPrompt("Triage plan for the Cloud Connector findings", triageText, "client_id", "min_severity"),
		},
		{
			Prompt: mcp.NewPrompt(promptReport,
				mcp.WithPromptTitle("Cloud Connector health report"),
				mcp.WithPromptDescription("A health report on the Cloud Connectors for people: inventory, high availability, findings by severity and next steps."),
				clientID,
			),
			Handler: textPrompt("Health report on the Cloud Connectors", reportText, "client_id"),
		},
	}
}

// textPrompt answers a prompt with one user message, written by text from its arguments: only
// the known names, empty values taken as absent, min_severity one of the severities, client_id a
// plausible Connector ID.
func textPrompt(title string, text func(map[string]string) string, known ...string) server.PromptHandlerFunc {
	return func(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		name, args := req.Params.Name, map[string]string{}
		var unknown []string
		for k, v := range req.Params.Arguments {
			if !slices.Contains(known, k) {
				unknown = append(unknown, strconv.Quote(k))
			} else if v = strings.TrimSpace(v); v != "" {
				args[k] = v
			}
		}
		if len(unknown) > 0 {
			slices.Sort(unknown)
			return nil, fmt.Errorf("prompt %s: unknown argument %s; valid arguments: %s", name, strings.Join(unknown, ", "), strings.Join(known, ", "))
		}
		if s, ok := args["min_severity"]; ok {
			if args["min_severity"] = strings.ToLower(s); assess.Severity(args["min_severity"]).Rank() < 0 {
				return nil, fmt.Errorf("prompt %s: min_severity must be one of %s, got %q", name, strings.Join(severityNames(), ", "), s)
			}
		}
		if id, ok := args["client_id"]; ok && (len(id) > 256 || strings.IndexFunc(id, unicode.IsControl) >= 0) {
			return nil, fmt.Errorf("prompt %s: client_id must be a Connector ID (at most 256 characters, no control characters)", name)
		}
		return mcp.NewGetPromptResult(title, []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text(args)))}), nil
	}
}

// toolArgs renders the arguments for a tool call as JSON text, in a stable order.
func toolArgs(args map[string]string, names ...string) string {
	var parts []string
	for _, n := range names {
		if v, ok := args[n]; ok {
			parts = append(parts, strconv.Quote(n)+": "+strconv.Quote(v))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func scope(args map[string]string) string {
	if id, ok := args["client_id"]; ok {
		return "the Cloud Connector " + strconv.Quote(id) + " (and the high-availability findings it is involved in)"
	}
	return "all Cloud Connectors of the bound subaccount(s)"
}

func triageText(args map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Triage the SAP BTP Cloud Connector findings for %s and turn them into an ordered remediation plan. Work only from what this server's tools return; never invent values, and say so when data is missing.\n\n", scope(args))
	fmt.Fprintf(&b, "1. Assess. Call assess_connectors with %s.", toolArgs(args, "client_id", "min_severity"))
	b.WriteString(` Note fetched_at, counts, worst_severity and policy. If truncated is true, call it again with limit 500. If the call fails, quote the error sentence, say what it asks the user to do, and stop.

2. Group by root cause. One cause often shows up as many findings:
   - the same rule ID on several connectors (for example security.ui_certificate everywhere is one certificate rollout; protocol.unencrypted is back ends not yet on TLS or SNC);
   - several rules on one connector (version.outdated together with version.java is one old installation: one upgrade with a new Java runtime fixes both);
   - a high-availability pair (master and shadow with the same location_id) is one unit: fix them together and use the shadow to avoid downtime;
   - decode.* findings mean the data is incomplete: list what could not be assessed instead of guessing.
   For a single security check, get_security_status gives its label and details.

3. Order the remediation: critical first, then high, medium, low, info. Within one severity, first the causes that remove most risk per change (those affecting most connectors), then the rest. Plan changes that need a restart (updates, Java) through the shadow instance where there is one.

4. For each step give: the finding IDs and Connector IDs it resolves; the concrete action, taken from the findings' recommendation; a suggested owner (the Cloud Connector administrators or SAP Basis team for connector settings, updates, Java and high availability; the owners of the back-end systems for TLS or SNC on the back end; the subaccount administrator for the application allowlist; security or PKI for certificates); the expected effort and risk; and how to verify, as a tool call and its expected answer (for example: assess_connectors with that client_id no longer lists security.payload_trace; get_security_status shows the check ok).

5. Answer with: a two-sentence summary (connectors assessed, findings per severity, the worst problem), the plan as a numbered list or table in the order above, and open questions (undocumented ratings, decode findings, anything to check on a connector's administration UI). This server is read-only: never claim something was changed or fixed.`)
	return b.String()
}

func reportText(args map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Write a health report on %s for IT operations and management: plain language, every technical term explained once, numbers exactly as the tools return them.\n\n", scope(args))
	fmt.Fprintf(&b, "1. Gather the data: call list_cloud_connectors with %s for the inventory, and assess_connectors with %s for the findings.",
		toolArgs(args, "client_id"), toolArgs(args, "client_id"))
	b.WriteString(` Call get_security_status only if a security finding needs more detail. If a call fails, say so in the report with the error sentence instead of guessing.

2. Structure the report:
   - Title, and "Data as of" with fetched_at.
   - Overall status in one sentence, from worst_severity: none, info or low is "healthy"; medium is "needs attention"; high or critical is "at risk".
   - Inventory: a table with Connector ID, role (master or shadow), location, Cloud Connector version, Java version, connected since, uptime and security summary.
   - High availability: per location, which master and shadow there are and whether failover works (ha.* findings).
   - Findings: a table ordered by severity with severity, finding, connector, what it means for the business, and the recommended action.
   - Next steps: the three to five most important actions, each with a suggested owner.
   - Notes: findings left out by a limit, attributes that could not be read (decode.*), and the version policy used (policy in the assess_connectors answer).

3. Never include credentials, tokens or binding details in the report.`)
	return b.String()
}

// completer suggests prompt and resource-template arguments: Connector IDs from the current
// snapshot, and the severities.
type completer struct{ cfg Config }

// maxCompletions is the protocol's limit on the values of one completion.
const maxCompletions = 100

// CompletePromptArgument completes client_id and min_severity of this server's prompts.
func (c completer) CompletePromptArgument(ctx context.Context, prompt string, arg mcp.CompleteArgument, _ mcp.CompleteContext) (*mcp.Completion, error) {
	switch {
	case arg.Name == "client_id" && (prompt == promptTriage || prompt == promptReport):
		return c.clientIDs(ctx, arg.Value), nil
	case arg.Name == "min_severity" && prompt == promptTriage:
		return complete(severityNames(), arg.Value), nil
	}
	return complete(nil, ""), nil
}

// CompleteResourceArgument completes client_id of the connectivity://connectors/{client_id}
// template.
func (c completer) CompleteResourceArgument(ctx context.Context, uri string, arg mcp.CompleteArgument, _ mcp.CompleteContext) (*mcp.Completion, error) {
	if uri == connectorTemplateURI && arg.Name == "client_id" {
		return c.clientIDs(ctx, arg.Value), nil
	}
	return complete(nil, ""), nil
}

// clientIDs completes a Connector ID from the current observations. Completion is a convenience: when
// the landscape cannot be read it offers nothing rather than failing.
func (c completer) clientIDs(ctx context.Context, prefix string) *mcp.Completion {
	if c.cfg.Observations == nil {
		return complete(nil, "")
	}
	ids, err := fromSnapshot(ctx, c.cfg, schemas.Scope{}, func(snap *connectivity.Snapshot) ([]string, error) { return clientIDs(snap), nil })
	if err != nil {
		c.cfg.logger().WarnContext(ctx, "client_id completion: landscape not readable", "error", err)
		return complete(nil, "")
	}
	slices.Sort(ids)
	return complete(ids, prefix)
}

// complete returns the candidates that start with prefix (case-insensitive), at most
// maxCompletions of them, with the total.
func complete(candidates []string, prefix string) *mcp.Completion {
	values := []string{}
	total := 0
	for _, c := range candidates {
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(prefix)) {
			if total++; len(values) < maxCompletions {
				values = append(values, c)
			}
		}
	}
	return &mcp.Completion{Values: values, Total: total, HasMore: total > len(values)}
}
