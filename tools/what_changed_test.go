package tools

import (
	"strings"
	"testing"
	"time"
)

// TestParseSince: since is read as a time, a date or a duration back from now; a time after now
// (no change can have happened since then) is refused with a sentence saying what to give instead
// of an empty answer that looks like "nothing changed".
func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "", want: "0001-01-01T00:00:00Z"},
		{in: "2026-12-06T05:00:00Z", want: "2026-12-06T05:00:00Z"},
		{in: "2026-12-06", want: "2026-12-06T00:00:00Z"},
		{in: "24h", want: "2026-12-06T05:00:00Z"},
		{in: "7d", want: "2026-11-30T05:00:00Z"},
		{in: "0d", want: "2026-12-07T05:00:00Z"},
		{in: "2026-12-07T05:00:00Z", want: "2026-12-07T05:00:00Z"},
		{in: "yesterday", wantErr: "must be an RFC 3339 time"},
		{in: "2099-01-01T00:00:00Z", wantErr: "is in the future"},
		{in: "2026-12-08", wantErr: "is in the future"},
		{in: "2026-12-07T05:00:01Z", wantErr: "give a time before"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseSince(tt.in, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseSince(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.UTC().Format(time.RFC3339) != tt.want {
				t.Fatalf("parseSince(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
			}
		})
	}
}
