package history

import (
	"context"
	"errors"
	"time"
)

// Trends answers how many findings were open on each day. Both backends of [Open] implement it.
type Trends interface {
	// OpenByDay counts the findings open at the end of each UTC day of q, per severity, in one
	// query.
	OpenByDay(ctx context.Context, q TrendQuery) (Trend, error)
}

// TrendQuery selects the days of a [Trend]. Zero Subaccount counts every subaccount.
type TrendQuery struct {
	From, To   time.Time // the days from From's to To's (UTC), both included
	Subaccount string
}

// Trend is the open findings at the end of each day, oldest day first.
type Trend struct {
	Days []DayCount
	// OldestRead is the first read the store holds: before it, days count nothing because
	// nothing was known, not because nothing was open.
	OldestRead time.Time
}

// DayCount is the findings open at the end of one day, by severity.
type DayCount struct {
	Day                               time.Time // midnight UTC
	Critical, High, Medium, Low, Info int
}

func (d *DayCount) add(severity string, n int) {
	switch severity {
	case SeverityCritical:
		d.Critical += n
	case SeverityHigh:
		d.High += n
	case SeverityLow:
		d.Low += n
	case SeverityInfo:
		d.Info += n
	default:
		d.Medium += n
	}
}

// maxTrendDays bounds a trend: a few years of days.
const maxTrendDays = 3660

// trendQuery returns, in one statement, three kinds of rows per subaccount: 0, the findings open
// now per severity; 1, when its history starts; 2, the net change of open findings per severity
// and day since the first day asked for (new +1, resolved -1, a severity change -1 and +1).
// The findings table holds the present; walking the changes back from it gives each day's end.
// Only the changes since From are read (the changes_observed index).
const trendQuery = `
SELECT subaccount, 0, severity, 0, COUNT(*) FROM findings
	WHERE resolved_at = 0 AND ? IN ('', subaccount) GROUP BY subaccount, severity
UNION ALL
SELECT subaccount, 1, '', covered_from, 0 FROM subaccounts WHERE ? IN ('', subaccount)
UNION ALL
SELECT subaccount, 2, sev, bucket, SUM(delta) FROM (
	SELECT subaccount, new_value AS sev, 1 AS delta, (observed_at - ?) / 86400000000000 AS bucket FROM changes
		WHERE observed_at >= ? AND ? IN ('', subaccount)
		AND (kind = 'finding_new' OR (kind = 'finding_changed' AND field = 'severity'))
	UNION ALL
	SELECT subaccount, old_value, -1, (observed_at - ?) / 86400000000000 FROM changes
		WHERE observed_at >= ? AND ? IN ('', subaccount)
		AND (kind = 'finding_resolved' OR (kind = 'finding_changed' AND field = 'severity'))
) e GROUP BY subaccount, sev, bucket`

func (s *sqlStore) OpenByDay(ctx context.Context, q TrendQuery) (Trend, error) {
	from := q.From.UTC().Truncate(24 * time.Hour)
	to := q.To.UTC().Truncate(24 * time.Hour)
	if to.Before(from) {
		return Trend{}, errors.New("history: a trend needs From not after To")
	}
	days := int(to.Sub(from)/(24*time.Hour)) + 1
	if days > maxTrendDays {
		return Trend{}, errors.New("history: a trend covers at most 3660 days")
	}
	f, sub := from.UnixNano(), q.Subaccount
	rows, err := s.db.QueryContext(ctx, s.q(trendQuery), sub, sub, f, f, sub, f, f, sub)
	if err != nil {
		return Trend{}, s.fail(err)
	}
	defer rows.Close()
	type account struct {
		covered int64
		now     DayCount
		delta   map[int64]*DayCount // by day index
	}
	accounts := map[string]*account{}
	get := func(name string) *account {
		a := accounts[name]
		if a == nil {
			a = &account{delta: map[int64]*DayCount{}}
			accounts[name] = a
		}
		return a
	}
	var oldest int64
	for rows.Next() {
		var name, severity string
		var kind int
		var at int64
		var n int
		if err := rows.Scan(&name, &kind, &severity, &at, &n); err != nil {
			return Trend{}, s.fail(err)
		}
		a := get(name)
		switch kind {
		case 0:
			a.now.add(severity, n)
		case 1:
			a.covered = at
			if oldest == 0 || at < oldest {
				oldest = at
			}
		case 2:
			d := a.delta[at]
			if d == nil {
				d = &DayCount{}
				a.delta[at] = d
			}
			d.add(severity, n)
		}
	}
	if err := rows.Err(); err != nil {
		return Trend{}, s.fail(err)
	}
	out := Trend{Days: make([]DayCount, days), OldestRead: fromNanos(oldest)}
	for i := range out.Days {
		out.Days[i].Day = from.AddDate(0, 0, i)
	}
	for _, a := range accounts {
		// Walk back from now: the end of day i is now minus every change after it.
		open := a.now
		last := int64(-1)
		for k := range a.delta {
			last = max(last, k)
		}
		for i := int64(max(last, int64(days-1))); i >= 0; i-- {
			if i < int64(days) {
				end := from.AddDate(0, 0, int(i)+1).UnixNano()
				if a.covered != 0 && a.covered < end {
					d := &out.Days[i]
					d.Critical, d.High, d.Medium = d.Critical+open.Critical, d.High+open.High, d.Medium+open.Medium
					d.Low, d.Info = d.Low+open.Low, d.Info+open.Info
				}
			}
			if c := a.delta[i]; c != nil {
				open.Critical, open.High, open.Medium = open.Critical-c.Critical, open.High-c.High, open.Medium-c.Medium
				open.Low, open.Info = open.Low-c.Low, open.Info-c.Info
			}
		}
	}
	return out, nil
}

var _ Trends = (*sqlStore)(nil)
