package main

import (
	"io"
	"net"
	"net/http"
	"sync"
)

// Paths of the loopback receiver, one per behaviour.
const (
	pathOK    = "/ok"    // answers 200
	pathFlaky = "/flaky" // answers 500 to a delivery's first attempt, then 200
	pathGone  = "/gone"  // answers 410 Gone
	pathFail  = "/fail"  // always answers 500
)

// receiver is a loopback webhook receiver.
type receiver struct {
	url string
	srv *http.Server

	mu   sync.Mutex
	seen map[string]bool // webhook-ids that reached pathFlaky
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String(), seen: map[string]bool{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serveHTTP)}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	switch req.URL.Path {
	case pathOK:
		w.WriteHeader(http.StatusOK)
	case pathFlaky:
		// webhook-id is the same on every attempt of a delivery.
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		first := !r.seen[id]
		r.seen[id] = true
		r.mu.Unlock()
		if first {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	case pathGone:
		w.WriteHeader(http.StatusGone)
	case pathFail:
		w.WriteHeader(http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (r *receiver) close() { _ = r.srv.Close() }
