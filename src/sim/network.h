// A deterministic discrete-event network in virtual time. Nodes (QUIC endpoint adapters, or toy
// senders in tests) are connected by links between IP addresses; each link direction queues,
// serialises and impairs packets per its LinkConfig. Everything is driven from one event heap,
// so a 60-second transfer runs in a fraction of a second and the same seed gives the same run,
// bit for bit. See docs/sim.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sim/event_queue.h"
#include "sim/link.h"
#include "sim/link_config.h"
#include "sim/node.h"
#include "sim/pcap_writer.h"

namespace sim {

// A node returning datagrams forever from poll_transmit is a bug in the node; the network stops
// polling it after this many datagrams in one round instead of hanging.
inline constexpr size_t kMaxDatagramsPerPoll = 1 << 20;

class Network {
 public:
  explicit Network(uint64_t seed, Instant start = Instant{});
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // The node receives datagrams sent to these addresses. It is first polled at the current time.
  // The node must outlive the network (or the last run()).
  void add_node(Node* node, std::vector<SocketAddress> addresses);
  // A bidirectional link between a's IP and b's IP (ports are ignored for routing); returns its
  // id, or -1 if the IPs are equal or an existing link already joins them.
  int add_link(SocketAddress a, SocketAddress b, LinkConfig a_to_b, LinkConfig b_to_a);
  // Routes another pair of IPs over an existing link (a shared bottleneck): datagrams from a to
  // b take the link's a->b direction, queueing behind everything else on it. False if the IPs
  // are equal, of different families, already routed, or the link does not exist.
  bool share_link(SocketAddress a, SocketAddress b, int link);

  // Scheduled changes at absolute virtual times (times in the past mean "now").
  // Down: both directions drop everything; queued and in-flight packets are lost.
  void schedule_down(int link, Instant at);
  void schedule_up(int link, Instant at);
  // Edits the live config of one direction (rate, delay, loss, ...). A rate change applies from
  // the next packet to start serialising, a delay change from the next packet to leave.
  void schedule_change(int link, bool a_to_b, Instant at, std::function<void(LinkConfig&)> change);
  // NAT rebinding: from `at`, datagrams sent from `from` leave with source `to`; datagrams sent
  // to `to` are delivered to from's node with destination `from`; datagrams to the old public
  // address are dropped (the old NAT binding is gone). Rebinding `to` again moves the binding.
  void schedule_rebind(SocketAddress from, SocketAddress to, Instant at);
  // Runs fn at `at`; every node is polled afterwards, so fn may poke endpoints directly.
  void schedule_call(Instant at, std::function<void(Instant)> fn);

  // Runs events up to and including `until`, until done() returns true (checked before the first
  // and after every event), or until no events remain. Returns now(): the time of the last
  // event when done() stopped it, otherwise `until` (unless until is kNever).
  Instant run(Instant until, std::function<bool()> done = nullptr);
  Instant now() const { return now_; }

  struct DirStats {
    uint64_t sent_packets, sent_bytes, delivered_packets, delivered_bytes, dropped_queue,
        dropped_loss, dropped_blackhole, corrupted, reordered, ce_marked;
  };
  DirStats stats(int link, bool a_to_b) const;
  // Datagrams whose (src IP, dst IP) had no link, and datagrams that arrived for an address no
  // node owns (including an address abandoned by a NAT rebinding).
  uint64_t unroutable() const { return unroutable_; }
  uint64_t undeliverable() const { return undeliverable_; }
  uint64_t events_processed() const { return events_; }

  // Hash over (time, link, direction, size, fate) of every packet's final fate.
  uint64_t trace_hash() const { return trace_hash_; }
  // Writes every datagram as it enters a link (after NAT) to a pcap file; false if the file
  // cannot be opened.
  bool set_pcap(const std::string& path);

 private:
  enum class Fate : uint8_t {
    kDelivered,
    kQueueDrop,
    kLoss,
    kBlackhole,
    kFilter,
    kUnroutable,
    kUndeliverable
  };
  struct NodeSlot {
    Node* node;
    Instant armed = quic::kNever;
    uint64_t gen = 0;
  };
  struct Link {
    SocketAddress a, b;
    std::unique_ptr<LinkDirection> dir[2];
    bool up = true;
  };
  struct Packet {
    Datagram d;
    uint32_t dir_ref;  // link * 2 + (0: a->b, 1: b->a)
    uint32_t epoch;
  };
  struct IpKey {
    std::array<uint8_t, 16> src, dst;
    uint8_t families;  // bit 0: src is IPv6, bit 1: dst is IPv6
    bool operator==(const IpKey&) const = default;
  };
  struct IpKeyHash {
    size_t operator()(const IpKey& k) const noexcept;
  };
  struct Rebind {
    SocketAddress from, to;
  };

  static IpKey ip_key(const SocketAddress& src, const SocketAddress& dst);
  LinkDirection& dir(uint32_t ref) { return *links_[ref >> 1].dir[ref & 1]; }
  void push(Instant at, EventKind kind, uint32_t a, uint64_t b = 0);
  Duration since_start() const { return now_ - start_; }

  void dispatch(const Event& e);
  void poll_node(uint32_t node);
  void rearm(uint32_t node);
  void send(Datagram d);
  void start_service(uint32_t ref, uint32_t slot);
  void on_tx_done(uint32_t ref, uint64_t service_seq);
  void on_arrival(uint32_t slot);
  void set_link_up(uint32_t link, bool up);
  void apply_rebind(const Rebind& r);
  const SocketAddress& resolve_public(const SocketAddress& a) const;

  uint32_t alloc_packet(Datagram&& d, uint32_t dir_ref);
  void free_packet(uint32_t slot);
  void record(int link, int direction, size_t size, Fate fate);

  uint64_t seed_;
  Instant start_, now_;
  EventQueue events_queue_;
  std::vector<NodeSlot> nodes_;
  std::unordered_map<SocketAddress, uint32_t> owner_;  // lookups only, never iterated
  std::vector<Link> links_;
  std::unordered_map<IpKey, uint32_t, IpKeyHash> routes_;  // -> dir_ref; lookups only
  std::vector<Packet> pool_;
  std::vector<uint32_t> free_slots_;

  std::unordered_map<SocketAddress, SocketAddress> nat_out_;  // private -> public
  std::unordered_map<SocketAddress, SocketAddress> nat_in_;   // public -> private
  std::unordered_set<SocketAddress> abandoned_;               // addresses no longer reachable

  std::vector<std::function<void(LinkConfig&)>> changes_;
  std::vector<uint32_t> change_dir_;
  std::vector<Rebind> rebinds_;
  std::vector<std::function<void(Instant)>> calls_;

  uint64_t unroutable_ = 0, undeliverable_ = 0, events_ = 0;
  uint64_t trace_hash_ = 0;
  std::unique_ptr<PcapWriter> pcap_;
};

}  // namespace sim
