// Package tools is the MCP face of the server: the read-only tools, the prompts, the resources and
// their completions, answering from the observations of package observe and shaped with the
// types of package schemas. It never reads a source, runs the rules or records history itself.
//
// NewServer builds the mcp-go server with everything registered; All and Lookup give the tools to
// the call and check commands, which run a handler without a server. New turns a typed handler
// func(ctx, In) (Out, error) into a tool (see args.go for the arguments it forgives). Every tool
// and resource follows one skeleton (fromView): select the observations in scope within the
// call's deadline, answer, and say how fresh the answer is.
package tools
