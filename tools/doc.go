// Package tools is the MCP face of the server: the four read-only tools (list_cloud_connectors,
// get_security_status, find_exposed_system, assess_connectors), the prompts, the resources and
// their completions, all answering from a snapshot of the Cloud Connector landscape
// (connectivity.Landscape) and shaped with the types of package schemas. It never makes an HTTP
// request itself.
//
// NewServer builds the mcp-go server with everything registered; All, Lookup and Names give the
// tools to the call and check commands, which run a handler once without a server. New is the
// generic adapter that turns a typed handler func(ctx, In) (Out, error) into a tool: the small
// argument layer in args.go forgives the slips models make ("42" for 42, "x" for ["x"]) and
// refuses unknown arguments with the valid names; every failure, a panic included, is an isError
// result with a sentence a user can act on; a success carries the structured content and the
// same compact JSON as text. Every tool and resource follows one skeleton (fromSnapshot): read
// the snapshot within the call's deadline, explain a failure (errors.go), answer.
package tools
