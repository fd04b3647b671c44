// The multipath state of one path that the path manager's decisions move (docs/multipath.md):
// its health (suspect, failed, recovered) and its role (backup or available, announced with
// PATH_STATUS; its share under the weighted scheduler). The connection keeps one of each in its
// Path, next to the figures they are decided from, and changes them only through these
// transitions; PathManager (path_manager.h) says when.
#pragma once

#include <cstdint>

#include "common/time.h"

namespace quic::mp {

// Failure detection with hysteresis: suspected after a silence with data outstanding, failed
// after repeated PTOs, recovered after consecutive ACKs with progress (PathManager::recovers).
class PathHealth {
 public:
  bool suspect() const { return suspect_; }
  bool failed() const { return failed_; }
  // Neither suspected nor failed: the path may carry data and its own ACKs.
  bool healthy() const { return !suspect_ && !failed_; }
  Instant failed_since() const { return failed_since_; }  // the abandon bound counts from it
  // The latest ACK of the path's packets, or the moment silence started to count.
  Instant last_progress() const { return last_progress_; }

  // Silence counts from `now`: the path was validated, or it had nothing outstanding and
  // something ack-eliciting just left.
  void start_silence(Instant now) { last_progress_ = now; }
  // No ACK for too long with data outstanding: it stops carrying data until an ACK comes.
  void suspect_now() {
    suspect_ = true;
    recover_acks_ = 0;
  }
  void fail(Instant now) {
    failed_ = true;
    failed_since_ = now;
    recover_acks_ = 0;
  }
  // An ACK showed progress. Clears the suspicion; a failed path counts it towards recovery
  // (`recovered(count)`: PathManager::recovers with the count so far). Returns whether the
  // path recovered now.
  template <class Recovered>
  bool on_progress(Instant now, Recovered&& recovered) {
    last_progress_ = now;
    suspect_ = false;
    if (!failed_ || !recovered(recover_acks_)) return false;
    failed_ = false;
    recover_acks_ = 0;
    return true;
  }

 private:
  bool suspect_ = false, failed_ = false;
  Instant failed_since_ = kNever;
  Instant last_progress_ = kNever;
  uint32_t recover_acks_ = 0;  // ACKs with progress since it last failed or was suspected
};

// What a path is for (multipath-21 §3.3): our wish, announced in PATH_STATUS_BACKUP or
// PATH_STATUS_AVAILABLE with a sequence number, the peer's latest announcement, and the
// application's weight for it.
class PathRole {
 public:
  // A backup path carries only keepalives while an available path works; either side's
  // announcement makes it one.
  bool backup() const { return local_backup_ || peer_backup_; }
  bool local_backup() const { return local_backup_; }
  bool peer_backup() const { return peer_backup_; }
  uint64_t status_seq() const { return status_seq_; }
  bool status_pending() const { return status_pending_; }
  double weight() const { return weight_; }  // within kMinPathWeight..kMaxPathWeight
  void set_weight(double w) { weight_ = w; }

  // Our wish for a path being opened; announced once it is validated (announce_if_backup).
  void open_as(bool backup) { local_backup_ = backup; }
  // The path was validated: a backup wish goes out (an available one is the default).
  void announce_if_backup() {
    if (local_backup_) status_pending_ = true;
  }
  // Our wish changed: a PATH_STATUS with the next sequence number is owed if `announce`
  // (multipath negotiated).
  void set_local(bool backup, bool announce) {
    local_backup_ = backup;
    ++status_seq_;
    status_pending_ = announce;
  }
  void status_sent() { status_pending_ = false; }
  // The PATH_STATUS with `seq` was lost: sent again unless a newer one replaced it.
  void status_lost(uint64_t seq) {
    if (seq == status_seq_) status_pending_ = true;
  }
  // The peer's PATH_STATUS: one sequence space for both frames, so reordered older news is
  // ignored. Returns whether it was news.
  bool on_peer_status(uint64_t seq, bool backup) {
    if (has_peer_status_ && seq <= peer_status_seq_) return false;
    has_peer_status_ = true;
    peer_status_seq_ = seq;
    peer_backup_ = backup;
    return true;
  }

 private:
  bool local_backup_ = false, status_pending_ = false;
  uint64_t status_seq_ = 0;
  bool peer_backup_ = false, has_peer_status_ = false;
  uint64_t peer_status_seq_ = 0;
  double weight_ = 1.0;
};

}  // namespace quic::mp
