// Packet protection throughput: seal, open, seal+open and header protection for each backend x
// cipher at QUIC's typical payload sizes. The numbers choose default_backend() (src/crypto/
// aead.cc) and are recorded in docs/BENCHMARKS.md with the command that produced them.
#include <benchmark/benchmark.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <openssl/evp.h>

#include <vector>

#include "crypto/packet_protector.h"

namespace quic {
namespace {

constexpr size_t kHeaderLen = 24;  // a typical short header with a 20-byte CID

std::unique_ptr<PacketProtector> protector(CipherSuite suite, AeadBackend backend) {
  Secret s;
  s.len = uint8_t(hash_size(suite_hash(suite)));
  for (size_t i = 0; i < s.len; ++i) s.bytes[i] = uint8_t(i * 31 + 7);
  auto p = PacketProtector::create(suite, s, 1, backend);
  return p ? std::move(*p) : nullptr;
}

struct Setup {
  std::unique_ptr<PacketProtector> p;
  std::vector<uint8_t> pkt;
  Bytes hdr() const { return Bytes(pkt.data(), kHeaderLen); }
  uint8_t* payload() { return pkt.data() + kHeaderLen; }
};

bool setup(benchmark::State& st, Setup* s) {
  auto suite = static_cast<CipherSuite>(st.range(0));
  auto backend = static_cast<AeadBackend>(st.range(1));
  size_t len = size_t(st.range(2));
  s->p = protector(suite, backend);
  if (!s->p) {
    st.SkipWithError("create failed");
    return false;
  }
  s->pkt.assign(kHeaderLen + len + kAeadTagSize, 0xa5);
  s->pkt[0] = 0x43;
  st.SetLabel(std::string(suite_name(suite)) + "/" + backend_name(backend));
  return true;
}

void BM_Seal(benchmark::State& st) {
  Setup s;
  if (!setup(st, &s)) return;
  size_t len = size_t(st.range(2));
  uint64_t pn = 0;
  for (auto _ : st) {
    bool ok = s.p->seal(pn++, 0, s.hdr(), s.payload(), len);
    benchmark::DoNotOptimize(ok);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(len));
}

void BM_SealOpen(benchmark::State& st) {
  Setup s;
  if (!setup(st, &s)) return;
  size_t len = size_t(st.range(2));
  uint64_t pn = 0;
  for (auto _ : st) {
    bool ok = s.p->seal(pn, 0, s.hdr(), s.payload(), len) &&
              s.p->open(pn, 0, s.hdr(), s.payload(), len + kAeadTagSize);
    if (!ok) {
      st.SkipWithError("open failed");
      break;
    }
    ++pn;
    benchmark::ClobberMemory();
  }
  // Bytes of packets protected and unprotected (each payload byte counted once per packet,
  // as a connection that both sends and receives would see it).
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(len));
}

void BM_HeaderProtect(benchmark::State& st) {
  Setup s;
  if (!setup(st, &s)) return;
  for (auto _ : st) {
    s.pkt[0] = 0x43;  // masking changes the pn-length bits; restore them for the next call
    bool ok = s.p->protect_header(s.pkt.data(), s.pkt.size(), 21, 4);
    if (!ok) {
      st.SkipWithError("protect_header failed");
      break;
    }
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
}

// The libraries called directly, without TQUIC's wrapper (no virtual call, no nonce XOR, no
// checks): the same per-packet sequence a QUIC stack must run. The wrapper's cost is the gap
// between BM_Seal and these.
void BM_RawOpenSslSeal(benchmark::State& st) {
  auto suite = static_cast<CipherSuite>(st.range(0));
  size_t len = size_t(st.range(1));
  const EVP_CIPHER* c = suite == CipherSuite::kAes128Gcm   ? EVP_aes_128_gcm()
                        : suite == CipherSuite::kAes256Gcm ? EVP_aes_256_gcm()
                                                           : EVP_chacha20_poly1305();
  uint8_t key[32] = {1}, nonce[12] = {2};
  std::vector<uint8_t> buf(kHeaderLen + len + kAeadTagSize, 0xa5);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, c, nullptr, key, nullptr);
  uint8_t* payload = buf.data() + kHeaderLen;
  uint64_t pn = 0;
  for (auto _ : st) {
    int n = 0;
    nonce[11] = uint8_t(pn++);
    EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce);
    EVP_EncryptUpdate(ctx, nullptr, &n, buf.data(), int(kHeaderLen));
    EVP_EncryptUpdate(ctx, payload, &n, payload, int(len));
    EVP_EncryptFinal_ex(ctx, payload + len, &n);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, payload + len);
    benchmark::ClobberMemory();
  }
  EVP_CIPHER_CTX_free(ctx);
  st.SetLabel(std::string(suite_name(suite)) + "/openssl-raw");
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(len));
}

void BM_RawGnuTlsSeal(benchmark::State& st) {
  auto suite = static_cast<CipherSuite>(st.range(0));
  size_t len = size_t(st.range(1));
  gnutls_cipher_algorithm_t alg = suite == CipherSuite::kAes128Gcm ? GNUTLS_CIPHER_AES_128_GCM
                                  : suite == CipherSuite::kAes256Gcm
                                      ? GNUTLS_CIPHER_AES_256_GCM
                                      : GNUTLS_CIPHER_CHACHA20_POLY1305;
  uint8_t key[32] = {1}, nonce[12] = {2};
  gnutls_datum_t k{key, unsigned(suite_key_size(suite))};
  gnutls_aead_cipher_hd_t h = nullptr;
  if (gnutls_aead_cipher_init(&h, alg, &k) != 0) {
    st.SkipWithError("init failed");
    return;
  }
  std::vector<uint8_t> buf(kHeaderLen + len + kAeadTagSize, 0xa5);
  uint8_t* payload = buf.data() + kHeaderLen;
  uint64_t pn = 0;
  for (auto _ : st) {
    nonce[11] = uint8_t(pn++);
    size_t out = len + kAeadTagSize;
    gnutls_aead_cipher_encrypt(h, nonce, sizeof nonce, buf.data(), kHeaderLen, kAeadTagSize,
                               payload, len, payload, &out);
    benchmark::ClobberMemory();
  }
  gnutls_aead_cipher_deinit(h);
  st.SetLabel(std::string(suite_name(suite)) + "/gnutls-raw");
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(len));
}

void raw_args(benchmark::internal::Benchmark* b) {
  for (int suite = 0; suite < 3; ++suite) {
    for (int len : {1200, 1350}) b->Args({suite, len});
  }
  b->ArgNames({"suite", "len"});
}

void args(benchmark::internal::Benchmark* b) {
  for (int suite = 0; suite < 3; ++suite) {
    for (AeadBackend backend : {AeadBackend::kOpenSsl, AeadBackend::kGnuTls}) {
      for (int len : {1200, 1350}) b->Args({suite, int(backend), len});
    }
  }
  b->ArgNames({"suite", "backend", "len"});
}

void hp_args(benchmark::internal::Benchmark* b) {
  for (int suite = 0; suite < 3; ++suite) {
    for (AeadBackend backend : {AeadBackend::kOpenSsl, AeadBackend::kGnuTls}) {
      b->Args({suite, int(backend), 1200});
    }
  }
  b->ArgNames({"suite", "backend", "len"});
}

BENCHMARK(BM_Seal)->Apply(args);
BENCHMARK(BM_SealOpen)->Apply(args);
BENCHMARK(BM_HeaderProtect)->Apply(hp_args);
BENCHMARK(BM_RawOpenSslSeal)->Apply(raw_args);
BENCHMARK(BM_RawGnuTlsSeal)->Apply(raw_args);

}  // namespace
}  // namespace quic

BENCHMARK_MAIN();
