package rtcnet

import "github.com/pion/logging"

// QuietLoggers silences pion's own loggers: its messages carry usernames
// and addresses, and the node logs counts through slog instead.
type QuietLoggers struct{}

// NewLogger returns a logger that discards everything.
func (QuietLoggers) NewLogger(string) logging.LeveledLogger { return quietLogger{} }

type quietLogger struct{}

func (quietLogger) Trace(string)          {}
func (quietLogger) Tracef(string, ...any) {}
func (quietLogger) Debug(string)          {}
func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Info(string)           {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warn(string)           {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Error(string)          {}
func (quietLogger) Errorf(string, ...any) {}
