package apiserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/store/storetest"
)

// TestValidateReducer_ResultTooLarge checks that validating a reducer whose result on
// the sample would exceed the payload limit answers 400 naming the reducer, instead of
// sending back many times the request: $..* on this 190 KB sample would print about
// 6 MB.
func TestValidateReducer_ResultTooLarge(t *testing.T) {
	var deep strings.Builder
	const depth, width = 60, 3000
	for i := 0; i < depth; i++ {
		deep.WriteString(`{"s":"` + strings.Repeat("x", width) + `","a":`)
	}
	deep.WriteString("null" + strings.Repeat("}", depth))
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServer(t, db)
		key := MustCreateAPIKey(t, ts, "org-reducer", "ext-reducer", "partner")
		path := partnerBase("org-reducer", "ext-reducer") + "/validate/reducer"
		body := `{"sample_data":` + deep.String() + `,"reducer":{"all":"$..*"}}`
		rec := doJSON(t, ts, http.MethodPost, path, key, body)
		mustFieldError(t, rec, http.StatusBadRequest, "reducer")
		if !strings.Contains(rec.Body.String(), "1048576 bytes") || rec.Body.Len() > 4<<10 {
			t.Errorf("answer of %d bytes, want a short error naming the limit: %.500s", rec.Body.Len(), rec.Body.String())
		}
		// A reducer within the limit still shows its result.
		rec = doJSON(t, ts, http.MethodPost, path, key, `{"sample_data":`+deep.String()+`,"reducer":{"top":"$.s"}}`)
		mustStatus(t, rec, http.StatusOK)
		if !strings.Contains(rec.Body.String(), `"success":true`) {
			t.Errorf("reducer within the limit: %.300s", rec.Body.String())
		}
	})
}
