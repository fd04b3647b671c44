#include "common/error.h"

namespace quic {

const char* error_name(uint64_t code) {
  switch (code) {
    case err::kNoError: return "NO_ERROR";
    case err::kInternalError: return "INTERNAL_ERROR";
    case err::kConnectionRefused: return "CONNECTION_REFUSED";
    case err::kFlowControlError: return "FLOW_CONTROL_ERROR";
    case err::kStreamLimitError: return "STREAM_LIMIT_ERROR";
    case err::kStreamStateError: return "STREAM_STATE_ERROR";
    case err::kFinalSizeError: return "FINAL_SIZE_ERROR";
    case err::kFrameEncodingError: return "FRAME_ENCODING_ERROR";
    case err::kTransportParameterError: return "TRANSPORT_PARAMETER_ERROR";
    case err::kConnectionIdLimitError: return "CONNECTION_ID_LIMIT_ERROR";
    case err::kProtocolViolation: return "PROTOCOL_VIOLATION";
    case err::kInvalidToken: return "INVALID_TOKEN";
    case err::kApplicationError: return "APPLICATION_ERROR";
    case err::kCryptoBufferExceeded: return "CRYPTO_BUFFER_EXCEEDED";
    case err::kKeyUpdateError: return "KEY_UPDATE_ERROR";
    case err::kAeadLimitReached: return "AEAD_LIMIT_REACHED";
    case err::kNoViablePath: return "NO_VIABLE_PATH";
    case err::kVersionNegotiationError: return "VERSION_NEGOTIATION_ERROR";
    case err::kApplicationAbandonPath: return "APPLICATION_ABANDON_PATH";
    case err::kPathResourceLimitReached: return "PATH_RESOURCE_LIMIT_REACHED";
    case err::kPathUnstableOrPoor: return "PATH_UNSTABLE_OR_POOR";
    case err::kNoCidAvailableForPath: return "NO_CID_AVAILABLE_FOR_PATH";
    default:
      return (code >= err::kCryptoErrorBase && code <= 0x01ff) ? "CRYPTO_ERROR" : "UNKNOWN";
  }
}

}  // namespace quic
