package devserver

import (
	"context"
	"log/slog"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// logAdapter sends the Temporal server's log to slog. The server reports at info level
// what an embedded user has no use for (membership, shard movements), so only warnings
// and errors get through unless the handler is enabled for debug.
type logAdapter struct {
	log *slog.Logger
	// quiet is set while the server stops: its services then report each other missing,
	// which says nothing to the user.
	quiet *atomic.Bool
}

func newLogAdapter(l *slog.Logger, quiet *atomic.Bool) log.Logger {
	return logAdapter{log: l.With("component", "temporal"), quiet: quiet}
}

func (a logAdapter) emit(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if (a.quiet.Load() && level < slog.LevelError+4) || !a.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	a.log.LogAttrs(ctx, level, msg, attrs...)
}

func (a logAdapter) Debug(msg string, tags ...tag.Tag) { a.emit(slog.LevelDebug-4, msg, tags) }
func (a logAdapter) Info(msg string, tags ...tag.Tag)  { a.emit(slog.LevelDebug, msg, tags) }
func (a logAdapter) Warn(msg string, tags ...tag.Tag)  { a.emit(slog.LevelWarn, msg, tags) }
func (a logAdapter) Error(msg string, tags ...tag.Tag) { a.emit(slog.LevelError, msg, tags) }
func (a logAdapter) DPanic(msg string, tags ...tag.Tag) {
	a.emit(slog.LevelError, msg, tags)
}

// Panic and Fatal end the process, so they are logged even while quiet, with the
// reason.
func (a logAdapter) Panic(msg string, tags ...tag.Tag) {
	a.emit(slog.LevelError+4, msg, tags)
	panic(msg)
}
func (a logAdapter) Fatal(msg string, tags ...tag.Tag) {
	a.emit(slog.LevelError+4, msg, tags)
	panic(msg)
}
