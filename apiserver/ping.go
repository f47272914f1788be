package apiserver

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/webhook"
)

type pingResponse struct {
	Status       string  `json:"status"` // SUCCESS or FAILED
	Code         int     `json:"code"`   // the HTTP status, 0 when there was no answer
	Message      string  `json:"message"`
	ResponseTime float64 `json:"response_time"` // milliseconds
}

// handleSubscriberPing is "test connection": it sends the subscriber a signed event named
// ping, in the same envelope and with the same headers as a delivery, and reports the
// answer. Nothing is stored.
func (s *Server) handleSubscriberPing(c *gin.Context) {
	sub, ok := s.loadSubscriber(c)
	if !ok {
		return
	}
	var idBytes [8]byte
	_, _ = rand.Read(idBytes[:])
	id := "ping-" + hex.EncodeToString(idBytes[:])
	now := s.now()
	doc := payload.NewObject(2)
	doc.Set("message", "test connection")
	doc.Set("subscriber_id", float64(sub.ID))
	body := webhook.AppendBody(nil, webhook.EventMeta{
		ID: id, Category: "application", Name: "ping", Type: "test", Version: "1",
		CreatedTimestamp: now.UnixMilli(), TraceID: id, CompanyID: sub.CompanyID,
	}, doc.Keys(), payload.Marshal(doc))
	resp := s.sender.Send(c.Request.Context(), webhook.Request{
		URL: sub.WebhookURL, Body: body, Secrets: sub.SigningSecrets(now), MessageID: webhook.MessageID(id), EventID: id,
		CustomHeaders: sub.CustomHeaders, Timeout: sub.Timeout(), Now: now,
	})
	out := pingResponse{Status: "FAILED", Code: resp.StatusCode, Message: resp.Message(),
		ResponseTime: float64(resp.Duration.Microseconds()) / 1000}
	if resp.OK() {
		out.Status = "SUCCESS"
	}
	attrs := []any{"subscriber_id", sub.ID, "status_code", resp.StatusCode, "result", out.Status}
	if resp.Err != nil {
		// The full error, which may name internal addresses, is for operators only.
		attrs = append(attrs, "error", resp.Err.Error())
	}
	s.log.InfoContext(c.Request.Context(), "ping", attrs...)
	c.JSON(http.StatusOK, out)
}
