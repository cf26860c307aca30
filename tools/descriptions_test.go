package tools

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// maxDescription bounds a tool description: every connected model reads every description
// on every turn, so each one must earn its length.
const maxDescription = 1200

// exampleQuestion is the one line of a description that shows a question the tool answers.
var exampleQuestion = regexp.MustCompile(`(?m)^Example question: "[^"\n]+\?"$`)

// whenToUse is a sentence that tells the model when to pick the tool.
var whenToUse = regexp.MustCompile(`(?m)(^|\. )Use (it|this tool) [^\n]+`)

func TestToolDescriptions(t *testing.T) {
	t.Parallel()
	for _, tool := range All(Config{}) {
		t.Run(tool.Tool.Name, func(t *testing.T) {
			t.Parallel()
			d := tool.Tool.Description
			if n := utf8.RuneCountInString(d); n > maxDescription {
				t.Errorf("description has %d characters, want at most %d", n, maxDescription)
			}
			if d != strings.TrimSpace(d) || strings.Contains(d, "\t") || strings.Contains(d, "  ") {
				t.Errorf("description has stray white space: %q", d)
			}
			if !whenToUse.MatchString(d) {
				t.Errorf("description does not say when to use the tool (a sentence starting \"Use it …\"):\n%s", d)
			}
			if n := strings.Count(d, "Example question:"); n != 1 {
				t.Errorf("description has %d \"Example question:\", want exactly one", n)
			}
			if !exampleQuestion.MatchString(d) {
				t.Errorf("description lacks a line Example question: \"…?\":\n%s", d)
			}
			if tool.Tool.Title == "" || tool.Tool.Annotations.Title != tool.Tool.Title {
				t.Errorf("title %q, annotations title %q; want the same non-empty title", tool.Tool.Title, tool.Tool.Annotations.Title)
			}
		})
	}
}

func TestToolInputDescriptions(t *testing.T) {
	t.Parallel()
	for _, tool := range All(Config{}) {
		t.Run(tool.Tool.Name, func(t *testing.T) {
			t.Parallel()
			var schema struct {
				Properties map[string]struct {
					Description string `json:"description"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(tool.Tool.RawInputSchema, &schema); err != nil {
				t.Fatal(err)
			}
			for name, p := range schema.Properties {
				if len(strings.TrimSpace(p.Description)) < 10 {
					t.Errorf("input property %s has no description (got %q)", name, p.Description)
				}
				if !strings.HasSuffix(p.Description, ".") {
					t.Errorf("input property %s: description %q does not end with a full stop", name, p.Description)
				}
			}
		})
	}
}
