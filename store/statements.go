package store

import (
	"strings"

	"gorm.io/gorm"
)

// countStatements makes the store count the SQL statements it runs, in all and by kind,
// for the benchmark's per-delivery cost breakdown.
func (s *Store) countStatements() {
	s.kinds = map[string]int64{}
	s.registerCounter(s.db)
	if s.rdb != s.db { // SQLite: a read pool beside the writer
		s.registerCounter(s.rdb)
	}
}

func (s *Store) registerCounter(db *gorm.DB) {
	count := func(db *gorm.DB) {
		s.statements.Add(1)
		if !s.countKinds.Load() {
			return
		}
		kind := statementKind(db.Statement.SQL.String())
		s.kindsMu.Lock()
		s.kinds[kind]++
		s.kindsMu.Unlock()
	}
	cb := db.Callback()
	_ = cb.Create().After("gorm:create").Register("hookflow:count_create", count)
	_ = cb.Query().After("gorm:query").Register("hookflow:count_query", count)
	_ = cb.Update().After("gorm:update").Register("hookflow:count_update", count)
	_ = cb.Delete().After("gorm:delete").Register("hookflow:count_delete", count)
	_ = cb.Row().After("gorm:row").Register("hookflow:count_row", count)
	_ = cb.Raw().After("gorm:raw").Register("hookflow:count_raw", count)
}

// statementKind names a statement by its verb and first table: "SELECT deliveries",
// "INSERT attempts", "UPDATE subscribers".
func statementKind(sql string) string {
	words := strings.Fields(sql)
	if len(words) == 0 {
		return "other"
	}
	verb := strings.ToUpper(words[0])
	var after string
	switch verb {
	case "SELECT", "DELETE", "WITH":
		after = "FROM"
	case "INSERT":
		after = "INTO"
	case "UPDATE":
		after = "UPDATE"
	}
	for i := 0; after != "" && i < len(words)-1; i++ {
		if strings.EqualFold(words[i], after) {
			return verb + " " + strings.Trim(words[i+1], "\"`();")
		}
	}
	return verb
}

// CountStatementKinds makes the store also count its statements by kind (the benchmark
// does; it costs a parse of every statement's text).
func (s *Store) CountStatementKinds() { s.countKinds.Store(true) }

// StatementKinds returns how many statements of each kind the store has run since
// CountStatementKinds.
func (s *Store) StatementKinds() map[string]int64 {
	s.kindsMu.Lock()
	defer s.kindsMu.Unlock()
	out := make(map[string]int64, len(s.kinds))
	for k, v := range s.kinds {
		out[k] = v
	}
	return out
}

// Statements returns how many SQL statements the store has run (transaction BEGIN and
// COMMIT not included).
func (s *Store) Statements() int64 { return s.statements.Load() }
