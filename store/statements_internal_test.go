package store

import "testing"

func TestStatementKind(t *testing.T) {
	for sql, want := range map[string]string{
		`SELECT * FROM "deliveries" WHERE id = $1`:                                   "SELECT deliveries",
		"INSERT INTO `attempts` (`delivery_id`) VALUES (?),(?) RETURNING `id`":       "INSERT attempts",
		`UPDATE "subscribers" SET "status"=$1`:                                       "UPDATE subscribers",
		`DELETE FROM notifications WHERE id < 5`:                                     "DELETE notifications",
		`WITH x AS (SELECT 1) SELECT d.id FROM deliveries d JOIN subscribers s ON 1`: "WITH deliveries",
		"  ":                        "other",
		"PRAGMA optimize":           "PRAGMA",
		`select id from events`:     "SELECT events",
		`INSERT INTO attempt_stats`: "INSERT attempt_stats",
	} {
		if got := statementKind(sql); got != want {
			t.Errorf("statementKind(%q) = %q, want %q", sql, got, want)
		}
	}
}
