// Unit checks of the pieces of `tquic serve` / `tquic get` that parse peer or user input:
// content types, Range (RFC 9110 §14.1.2), request path decoding, -H arguments.
#include <gtest/gtest.h>

#include "apps/h3_get.h"
#include "apps/body_pump.h"
#include "apps/h3_serve.h"

namespace apps {
namespace {

TEST(ContentType, KnownExtensionsCaseInsensitive) {
  EXPECT_EQ(content_type_for("/a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("/A/INDEX.HTM"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("x.json"), "application/json");
  EXPECT_EQ(content_type_for("/img/logo.PNG"), "image/png");
  EXPECT_EQ(content_type_for("/t.txt"), "text/plain; charset=utf-8");
}

TEST(ContentType, UnknownIsOctetStream) {
  EXPECT_EQ(content_type_for("/file.bin"), "application/octet-stream");
  EXPECT_EQ(content_type_for("/noext"), "application/octet-stream");
  EXPECT_EQ(content_type_for("/dir.html/file"), "application/octet-stream");
}

TEST(RangeHeader, FirstLastSuffixAndOpenEnded) {
  ByteRange r;
  ASSERT_EQ(parse_range("bytes=10-19", 100, &r), RangeKind::kSatisfiable);
  EXPECT_EQ(r.first, 10u);
  EXPECT_EQ(r.last, 19u);
  ASSERT_EQ(parse_range("bytes=90-", 100, &r), RangeKind::kSatisfiable);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.last, 99u);
  ASSERT_EQ(parse_range("bytes=-5", 100, &r), RangeKind::kSatisfiable);
  EXPECT_EQ(r.first, 95u);
  EXPECT_EQ(r.last, 99u);
  ASSERT_EQ(parse_range("bytes=-500", 100, &r), RangeKind::kSatisfiable);  // §14.1.3: whole
  EXPECT_EQ(r.first, 0u);
  ASSERT_EQ(parse_range("bytes=50-5000", 100, &r), RangeKind::kSatisfiable);  // clamped
  EXPECT_EQ(r.last, 99u);
}

TEST(RangeHeader, UnsatisfiableBeyondEndOrEmptySuffix) {
  ByteRange r;
  EXPECT_EQ(parse_range("bytes=100-", 100, &r), RangeKind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=200-300", 100, &r), RangeKind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100, &r), RangeKind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0, &r), RangeKind::kUnsatisfiable);
}

TEST(RangeHeader, InvalidOrMultipleAreIgnored) {
  ByteRange r;
  EXPECT_EQ(parse_range("items=1-2", 100, &r), RangeKind::kIgnore);
  EXPECT_EQ(parse_range("bytes=5-1", 100, &r), RangeKind::kIgnore);
  EXPECT_EQ(parse_range("bytes=1-2,5-6", 100, &r), RangeKind::kIgnore);
  EXPECT_EQ(parse_range("bytes=x-2", 100, &r), RangeKind::kIgnore);
  EXPECT_EQ(parse_range("bytes=-", 100, &r), RangeKind::kIgnore);
  EXPECT_EQ(parse_range("bytes=99999999999999999999999-", 100, &r), RangeKind::kIgnore);
}

TEST(RequestPath, DecodesAndDropsQuery) {
  EXPECT_EQ(decode_request_path("/a%20b/c.txt?x=1#f"), "/a b/c.txt");
  EXPECT_EQ(decode_request_path("/"), "/");
  EXPECT_EQ(decode_request_path("/%2e%2e/etc"), "/../etc");  // resolve_request_path rejects it
}

TEST(RequestPath, RejectsMalformedNulAndOverLimit) {
  EXPECT_FALSE(decode_request_path("relative"));
  EXPECT_FALSE(decode_request_path("/a%2"));
  EXPECT_FALSE(decode_request_path("/a%zz"));
  EXPECT_FALSE(decode_request_path("/a%00b"));
  EXPECT_FALSE(decode_request_path("/" + std::string(kMaxServePath, 'a')));
  EXPECT_TRUE(decode_request_path("/" + std::string(kMaxServePath - 1, 'a')));
}

TEST(HeaderArg, NameLowercasedValueTrimmed) {
  auto f = parse_header_arg("X-Test:  hello world ");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "x-test");
  EXPECT_EQ(f->value, "hello world");
  EXPECT_FALSE(parse_header_arg("no colon"));
  EXPECT_FALSE(parse_header_arg(": value"));
}

TEST(WriteOut, VariablesEscapesAndText) {
  WriteOutValues v{0.0125, 0.25, 1.5, 12345, 206, 2};
  auto s = format_write_out(
      "hs=%{time_handshake} fb=%{time_starttransfer} total=%{time_total}\\t"
      "%{size_download} %{http_code} %{num_paths}\\n",
      v);
  ASSERT_TRUE(s) << s.error().reason;
  EXPECT_EQ(*s, "hs=0.012500 fb=0.250000 total=1.500000\t12345 206 2\n");
  EXPECT_EQ(*format_write_out("", v), "");
  EXPECT_EQ(*format_write_out("100% \\x", v), "100% \\x");  // only %{...}, \n, \t are special
}

TEST(WriteOut, UnknownOrUnclosedVariableIsAnError) {
  auto bad = format_write_out("%{time_connect}", {});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().reason.find("time_connect"), std::string::npos);
  EXPECT_FALSE(format_write_out("%{time_total", {}));
}

TEST(Progress, WithAndWithoutATotal) {
  EXPECT_EQ(format_progress(3 << 20, 12 << 20, 2.0), "     3.0 MiB of 12.0 MiB   25.0%      1.5 MiB/s");
  EXPECT_EQ(format_progress(1 << 20, 0, 0.5), "     1.0 MiB      2.0 MiB/s");
  EXPECT_EQ(format_progress(0, 0, 0), "     0.0 MiB      0.0 MiB/s");  // no division by zero
}

// A 64 MiB body into a stream with unlimited send room (the worst case for the hook: nothing
// ever pushes back): each call reads at most kMaxBodyBytesPerActivity, the bytes go out in
// order, and the FIN goes exactly once, with the last byte.
TEST(BodyPump, EachCallReadsAtMostTheBudget) {
  constexpr uint64_t kSize = uint64_t{64} << 20;
  std::vector<uint8_t> scratch(64 * 1024);
  uint64_t offset = 0, read_this_call = 0, written = 0, fins = 0, calls = 0;
  auto read = [&](uint64_t at, size_t len) -> std::optional<std::span<const uint8_t>> {
    EXPECT_EQ(at, offset);  // contiguous
    read_this_call += len;
    for (size_t i = 0; i < len; ++i) scratch[i] = static_cast<uint8_t>((at + i) % 251);
    return std::span<const uint8_t>(scratch.data(), len);
  };
  auto write = [&](std::span<const uint8_t> d, bool fin) -> std::optional<size_t> {
    for (size_t i = 0; i < d.size(); ++i) {
      if (d[i] != static_cast<uint8_t>((written + i) % 251)) ADD_FAILURE() << "at " << written + i;
    }
    written += d.size();
    fins += fin ? 1 : 0;
    return d.size();
  };
  PumpStatus st = PumpStatus::kMore;
  while (st == PumpStatus::kMore && calls < 1000) {
    read_this_call = 0;
    st = pump_body(offset, kSize, scratch.size(), read, write);
    ++calls;
    ASSERT_LE(read_this_call, kMaxBodyBytesPerActivity);
  }
  EXPECT_EQ(st, PumpStatus::kDone);
  EXPECT_EQ(written, kSize);
  EXPECT_EQ(offset, kSize);
  EXPECT_EQ(fins, 1u);
  EXPECT_EQ(calls, kSize / kMaxBodyBytesPerActivity);
}

TEST(BodyPump, PartialWritesReadErrorsAndRefusals) {
  std::vector<uint8_t> scratch(1000);
  auto read = [&](uint64_t, size_t len) -> std::optional<std::span<const uint8_t>> {
    return std::span<const uint8_t>(scratch.data(), len);
  };
  uint64_t offset = 0;
  auto half = [](std::span<const uint8_t> d, bool) -> std::optional<size_t> {
    return d.size() / 2;
  };
  EXPECT_EQ(pump_body(offset, 1000, 1000, read, half), PumpStatus::kMore);  // stream full
  EXPECT_EQ(offset, 500u);
  auto all = [](std::span<const uint8_t> d, bool) -> std::optional<size_t> { return d.size(); };
  EXPECT_EQ(pump_body(offset, 1000, 1000, read, all), PumpStatus::kDone);
  EXPECT_EQ(offset, 1000u);
  uint64_t at = 0;
  auto short_read = [&](uint64_t, size_t) -> std::optional<std::span<const uint8_t>> {
    return std::span<const uint8_t>();
  };
  EXPECT_EQ(pump_body(at, 10, 10, short_read, all), PumpStatus::kReadError);
  auto refused = [](std::span<const uint8_t>, bool) -> std::optional<size_t> {
    return std::nullopt;
  };
  EXPECT_EQ(pump_body(at, 10, 10, read, refused), PumpStatus::kWriteError);
  EXPECT_EQ(at, 0u);
  bool fin_alone = false;
  auto fin_only = [&](std::span<const uint8_t> d, bool fin) -> std::optional<size_t> {
    fin_alone = d.empty() && fin;
    return 0;
  };
  uint64_t empty = 0;
  EXPECT_EQ(pump_body(empty, 0, 10, read, fin_only), PumpStatus::kDone);  // an empty body
  EXPECT_TRUE(fin_alone);
}

TEST(CloseCode, CryptoErrorNamesTheTlsAlert) {
  EXPECT_EQ(describe_close_code(0x12a, false), "CRYPTO_ERROR 0x12a (bad_certificate)");
  EXPECT_EQ(describe_close_code(0x174, false), "CRYPTO_ERROR 0x174 (certificate_required)");
  EXPECT_EQ(describe_close_code(0x178, false), "CRYPTO_ERROR 0x178 (no_application_protocol)");
  EXPECT_EQ(describe_close_code(0x1ff, false), "CRYPTO_ERROR 0x1ff (unknown TLS alert)");
  EXPECT_EQ(tls_alert_name(0), std::string("close_notify"));
  EXPECT_EQ(tls_alert_name(41), nullptr);  // no_certificate_RESERVED is not a TLS 1.3 alert
}

TEST(CloseCode, TransportAndApplicationCodes) {
  EXPECT_EQ(describe_close_code(0x0a, false), "PROTOCOL_VIOLATION (0xa)");
  EXPECT_EQ(describe_close_code(0x200, false), "UNKNOWN (0x200)");
  EXPECT_EQ(describe_close_code(0x10c, true), "application error 0x10c");
  EXPECT_EQ(describe_close_error(std::nullopt), "?");
  EXPECT_EQ(describe_close_error(quic::Error{0x12a, 0, "peer said no", false}),
            "CRYPTO_ERROR 0x12a (bad_certificate) peer said no");
}

// tquic get -v names the negotiated suite as TLS registers it (RFC 8446 §B.4).
TEST(CipherSuiteName, IanaNames) {
  EXPECT_STREQ(tls_cipher_suite_name(quic::CipherSuite::kAes128Gcm), "TLS_AES_128_GCM_SHA256");
  EXPECT_STREQ(tls_cipher_suite_name(quic::CipherSuite::kAes256Gcm), "TLS_AES_256_GCM_SHA384");
  EXPECT_STREQ(tls_cipher_suite_name(quic::CipherSuite::kChaCha20Poly1305),
               "TLS_CHACHA20_POLY1305_SHA256");
}

}  // namespace
}  // namespace apps
