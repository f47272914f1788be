package activities_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/models"
)

// startSMTP runs a minimal SMTP server on loopback. With hang set it accepts
// connections and never answers; otherwise it accepts every message and hands its data
// to got.
func startSMTP(t *testing.T, hang bool, got func(string)) string {
	t.Helper()
	return startSMTPServer(t, smtpServer{hang: hang, got: got})
}

// smtpServer is how a test SMTP server behaves.
type smtpServer struct {
	hang bool         // accept connections and never answer
	got  func(string) // called with each message's data
	busy func() bool  // when it reports true, a connection is greeted with 554 and closed
}

func startSMTPServer(t *testing.T, srv smtpServer) string {
	t.Helper()
	hang, got := srv.hang, srv.got
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	t.Cleanup(func() { ln.Close(); conns.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				if hang {
					_, _ = r.ReadString('\n') // until the client gives up
					return
				}
				say := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
				if srv.busy != nil && srv.busy() {
					say("554 5.3.2 not accepting mail now")
					return
				}
				say("220 test ESMTP")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						say("250 test")
					case cmd == "DATA":
						say("354 go on")
						var data strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
							data.WriteString(l)
						}
						got(data.String())
						say("250 queued")
					case cmd == "QUIT":
						say("221 bye")
						return
					default:
						say("250 ok")
					}
				}
			})
		}
	}()
	return ln.Addr().String()
}

func TestSMTPNotifier(t *testing.T) {
	n := &models.Notification{Email: "ops@example.com", Subject: "Webhook \"w\" is blocked", Message: "because HTTP 500"}
	t.Run("OK", func(t *testing.T) {
		mails := make(chan string, 1)
		addr := startSMTP(t, false, func(s string) { mails <- s })
		s := activities.SMTPNotifier{Addr: addr, From: "hookflow@example.com"}
		if err := s.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-mails:
			if !strings.Contains(m, "Subject: "+n.Subject) || !strings.Contains(m, n.Message) || !strings.Contains(m, "To: ops@example.com") {
				t.Errorf("mail %q", m)
			}
		default:
			t.Fatal("the server got no mail")
		}
	})
	t.Run("HungServerHonoursContext", func(t *testing.T) {
		addr := startSMTP(t, true, nil)
		s := activities.SMTPNotifier{Addr: addr, From: "hookflow@example.com"}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- s.Send(ctx, n) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want one wrapping context.DeadlineExceeded", err)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("Send still waits on a server that never answers, 8 s after its context ended")
		}
	})
}
