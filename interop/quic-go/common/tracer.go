package common

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/lucas-clemente/quic-go/logging"
	"github.com/lucas-clemente/quic-go/qlog"
)

// Stats counts, per connection, the events the interop cases assert on. The driver reads
// them from the summary line each program prints, so a case cannot pass without the
// feature actually having happened on the wire (e.g. "retry" needs retries_received=1).
type Stats struct {
	RetriesReceived   atomic.Int64
	KeyUpdatesLocal   atomic.Int64
	KeyUpdatesRemote  atomic.Int64
	ZeroRTTSent       atomic.Int64
	ZeroRTTReceived   atomic.Int64
	PacketsDropped    atomic.Int64
	PacketsLost       atomic.Int64
	VersionNegotiated atomic.Uint32
	mu                sync.Mutex
	closeErr          string
}

// CloseError is the error quic-go reported when the connection closed ("" if none yet).
func (s *Stats) CloseError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErr
}

// Summary renders the counters as space-separated key=value pairs.
func (s *Stats) Summary() string {
	return fmt.Sprintf("version=0x%08x retries_received=%d key_updates_local=%d "+
		"key_updates_remote=%d zero_rtt_sent=%d zero_rtt_received=%d dropped=%d lost=%d",
		s.VersionNegotiated.Load(), s.RetriesReceived.Load(), s.KeyUpdatesLocal.Load(),
		s.KeyUpdatesRemote.Load(), s.ZeroRTTSent.Load(), s.ZeroRTTReceived.Load(),
		s.PacketsDropped.Load(), s.PacketsLost.Load())
}

type statsConnTracer struct {
	logging.NullConnectionTracer
	s *Stats
}

func (t statsConnTracer) NegotiatedVersion(v logging.VersionNumber, _, _ []logging.VersionNumber) {
	t.s.VersionNegotiated.Store(uint32(v))
}
func (t statsConnTracer) ReceivedRetry(*logging.Header) { t.s.RetriesReceived.Add(1) }
func (t statsConnTracer) UpdatedKey(_ logging.KeyPhase, remote bool) {
	if remote {
		t.s.KeyUpdatesRemote.Add(1)
	} else {
		t.s.KeyUpdatesLocal.Add(1)
	}
}
func (t statsConnTracer) SentPacket(h *logging.ExtendedHeader, _ logging.ByteCount,
	_ *logging.AckFrame, _ []logging.Frame) {
	if logging.PacketTypeFromHeader(&h.Header) == logging.PacketType0RTT {
		t.s.ZeroRTTSent.Add(1)
	}
}
func (t statsConnTracer) ReceivedPacket(h *logging.ExtendedHeader, _ logging.ByteCount,
	_ []logging.Frame) {
	if logging.PacketTypeFromHeader(&h.Header) == logging.PacketType0RTT {
		t.s.ZeroRTTReceived.Add(1)
	}
}
func (t statsConnTracer) DroppedPacket(logging.PacketType, logging.ByteCount,
	logging.PacketDropReason) {
	t.s.PacketsDropped.Add(1)
}
func (t statsConnTracer) LostPacket(logging.EncryptionLevel, logging.PacketNumber,
	logging.PacketLossReason) {
	t.s.PacketsLost.Add(1)
}
func (t statsConnTracer) ClosedConnection(err error) {
	t.s.mu.Lock()
	t.s.closeErr = fmt.Sprint(err)
	t.s.mu.Unlock()
}

// StatsTracer hands out one Stats per connection, in creation order. quic-go gives a
// tracer no handle back to the Connection, so callers match them by order (the client
// makes one connection at a time) or read them all (the server).
type StatsTracer struct {
	logging.NullTracer
	mu    sync.Mutex
	conns []*Stats
	// RetriesSent counts Retry packets a server sent (they belong to no connection).
	RetriesSent atomic.Int64
}

// SentPacket is called for packets sent outside any connection (Retry, Version Negotiation).
func (t *StatsTracer) SentPacket(_ net.Addr, h *logging.Header, _ logging.ByteCount,
	_ []logging.Frame) {
	if logging.PacketTypeFromHeader(h) == logging.PacketTypeRetry {
		t.RetriesSent.Add(1)
	}
}

// TracerForConnection is called by quic-go once per connection.
func (t *StatsTracer) TracerForConnection(context.Context, logging.Perspective,
	logging.ConnectionID) logging.ConnectionTracer {
	s := &Stats{}
	t.mu.Lock()
	t.conns = append(t.conns, s)
	t.mu.Unlock()
	return statsConnTracer{s: s}
}

// Conn returns the i-th connection's stats (nil if there is none yet).
func (t *StatsTracer) Conn(i int) *Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < 0 || i >= len(t.conns) {
		return nil
	}
	return t.conns[i]
}

// Count returns how many connections were traced.
func (t *StatsTracer) Count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// NewTracer returns the stats tracer, combined with a qlog tracer writing one file per
// connection into qlogDir when it is not empty.
func NewTracer(qlogDir, role string) (*StatsTracer, logging.Tracer) {
	st := &StatsTracer{}
	if qlogDir == "" {
		return st, st
	}
	ql := qlog.NewTracer(func(_ logging.Perspective, id []byte) io.WriteCloser {
		name := filepath.Join(qlogDir, fmt.Sprintf("%s-%x.qlog", role, id))
		f, err := os.Create(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "qlog: %v\n", err)
			return nopCloser{io.Discard}
		}
		return f
	})
	return st, logging.NewMultiplexedTracer(st, ql)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
