#include "cc/delivery_rate.h"

#include <algorithm>

namespace quic {

void DeliveryRateSampler::on_packet_sent(Instant now, uint64_t pn, uint32_t bytes,
                                         uint64_t bytes_in_flight) {
  // draft-cheng §3.2: a send that starts a new flight restarts both clocks, so the idle time
  // before it is not counted as a delivery interval.
  if (bytes_in_flight <= bytes) first_sent_time_ = delivered_time_ = now;
  // Packet numbers only grow; a caller replaying one is ignored rather than breaking the order.
  if (!records_.empty() && pn <= records_.back().pn) return;
  if (records_.size() >= kMaxDeliveryRecords) {
    if (!records_.front().gone) --live_;
    records_.pop_front();
  }
  Record r;
  r.pn = pn;
  r.bytes = bytes;
  r.is_app_limited = app_limited_until_ != 0;
  r.delivered = delivered_;
  r.lost = lost_;
  r.tx_in_flight = bytes_in_flight;
  r.delivered_time = delivered_time_;
  r.first_sent_time = first_sent_time_;
  r.sent_time = now;
  records_.push_back(r);
  ++live_;
}

DeliveryRateSampler::Record* DeliveryRateSampler::find_mut(uint64_t pn) {
  auto it = std::lower_bound(records_.begin(), records_.end(), pn,
                             [](const Record& r, uint64_t v) { return r.pn < v; });
  if (it == records_.end() || it->pn != pn || it->gone) return nullptr;
  return &*it;
}

const DeliveryRateSampler::Record* DeliveryRateSampler::find(uint64_t pn) const {
  return const_cast<DeliveryRateSampler*>(this)->find_mut(pn);
}

void DeliveryRateSampler::trim() {
  while (!records_.empty() && records_.front().gone) records_.pop_front();
}

const RateSample& DeliveryRateSampler::on_ack(Instant now, std::span<const SentPacket> acked,
                                              Duration min_rtt) {
  rs_ = RateSample{};
  const Record* newest = nullptr;
  Record newest_copy;
  for (const SentPacket& p : acked) {
    if (!p.in_flight) continue;
    delivered_ += p.bytes;
    delivered_time_ = now;
    rs_.newly_acked += p.bytes;
    Record* r = find_mut(p.pn);
    if (r == nullptr) continue;
    r->gone = true;
    --live_;
    // draft-cheng §3.3: the sample comes from the packet sent with the most delivered data
    // (ties: the later send), i.e. the most recent information about the path.
    if (newest == nullptr || r->delivered > newest_copy.delivered ||
        (r->delivered == newest_copy.delivered && r->sent_time >= newest_copy.sent_time)) {
      newest_copy = *r;
      newest = &newest_copy;
    }
  }
  if (newest != nullptr) {
    const Record& r = newest_copy;
    rs_.prior_delivered = r.delivered;
    rs_.prior_time = r.delivered_time;
    rs_.is_app_limited = r.is_app_limited;
    rs_.send_elapsed = r.sent_time - r.first_sent_time;
    rs_.ack_elapsed = delivered_time_ - r.delivered_time;
    rs_.tx_in_flight = r.tx_in_flight;
    rs_.lost = lost_ - r.lost;
    rs_.rtt = now - r.sent_time;
    rs_.sent_time = r.sent_time;
    // The next flight's send interval starts where this packet's send was.
    first_sent_time_ = r.sent_time;
    rs_.delivered = delivered_ - r.delivered;
    rs_.interval = std::max(rs_.send_elapsed, rs_.ack_elapsed);
    if (rs_.interval > Duration::zero() && rs_.interval >= min_rtt) {
      rs_.valid = true;
      rs_.delivery_rate = static_cast<double>(rs_.delivered) * 1e9 /
                          static_cast<double>(rs_.interval.count());
    }
  }
  // §3.4: the app-limited phase ends once the bubble it left has been delivered.
  if (app_limited_until_ != 0 && delivered_ > app_limited_until_) app_limited_until_ = 0;
  trim();
  return rs_;
}

void DeliveryRateSampler::on_lost(std::span<const SentPacket> lost) {
  for (const SentPacket& p : lost) {
    if (!p.in_flight) continue;
    lost_ += p.bytes;
    if (Record* r = find_mut(p.pn)) {
      r->gone = true;
      --live_;
    }
  }
  trim();
}

void DeliveryRateSampler::forget(uint64_t pn) {
  if (Record* r = find_mut(pn)) {
    r->gone = true;
    --live_;
  }
  trim();
}

void DeliveryRateSampler::on_app_limited(uint64_t bytes_in_flight) {
  app_limited_until_ = std::max<uint64_t>(delivered_ + bytes_in_flight, 1);
}

}  // namespace quic
