// Writes simulated datagrams to a pcap file (nanosecond timestamps, LINKTYPE_RAW) with
// synthesised IPv4/IPv6 + UDP headers, so a run can be opened in Wireshark with a QUIC
// dissector. Debugging aid only: write errors are reported once via ok() and otherwise ignored.
#pragma once

#include <cstdio>
#include <string>

#include "sim/node.h"

namespace sim {

class PcapWriter {
 public:
  PcapWriter() = default;
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Opens (truncates) the file and writes the global header; false if it cannot be opened.
  bool open(const std::string& path);
  bool is_open() const { return file_ != nullptr; }
  bool ok() const { return ok_; }
  // Skips datagrams that cannot be expressed as one IP packet (mixed families, > 64 KiB).
  void write(Instant at, const Datagram& d);
  void close();

 private:
  std::FILE* file_ = nullptr;
  bool ok_ = true;
};

}  // namespace sim
